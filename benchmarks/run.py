"""Run every ``benchmarks/bench_*.py`` (or those named) and print one line per claim.

Each benchmark lists the claims it makes in ``CLAIMS``; a listed claim that was not measured (the
benchmark skipped itself, or stopped with an error) counts as missing, and fails the run like a
claim that missed its target.

Usage: ``python benchmarks/run.py [NAME ...]``, e.g. ``python benchmarks/run.py import``;
``--list`` prints the expected claims without running anything.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import _report  # noqa: E402


def benchmarks() -> dict[str, Path]:
    """``{name: path}`` of every ``bench_<name>.py`` here."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def expected_claims(path: Path) -> tuple[str, ...]:
    """The ``CLAIMS`` a benchmark file declares, read from its source without importing it (so
    a benchmark that cannot even import still has its claims counted as missing)."""
    tree = ast.parse(path.read_text(), str(path))
    names: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    names[target.id] = ast.literal_eval(_resolve(node.value, names))
                except (ValueError, TypeError, SyntaxError):
                    continue
    claims = names.get("CLAIMS")
    if not (isinstance(claims, tuple) and claims and all(isinstance(c, str) for c in claims)):
        raise SystemExit(f"{path.name} declares no CLAIMS (a tuple of the claim names it makes)")
    return claims


def _resolve(node: ast.expr, names: dict[str, object]) -> ast.expr:
    """``node`` with names of earlier literal assignments replaced by their values."""

    class Inline(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.AST:
            return ast.Constant(names[n.id]) if n.id in names else n

    return ast.fix_missing_locations(Inline().visit(node))


def run_one(name: str, path: Path) -> str | None:
    """Run one benchmark's ``main()``; the error text if it raised."""
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()
    except Exception as exc:
        traceback.print_exc()
        return f"{type(exc).__name__}: {exc}"
    return None


def main(argv: list[str]) -> int:
    found = benchmarks()
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Run the ratio benchmarks and count their claims: exit 1 if a claim misses "
        "its target or was not measured (a benchmark skipped itself or failed).",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(found)}")  # fmt: skip
    parser.add_argument("--list", action="store_true",
                        help="print the claims each benchmark makes, run nothing")  # fmt: skip
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in found]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; choose from {', '.join(found)}")
    chosen = {n: p for n, p in found.items() if not args.names or n in args.names}
    expected = {n: expected_claims(p) for n, p in chosen.items()}
    if args.list:
        for name, claims in expected.items():
            print(f"== {name}")
            for claim in claims:
                print(f"   {claim}")
        print(f"{sum(map(len, expected.values()))} claims")
        return 0

    missing: list[tuple[str, str, str]] = []
    undeclared: list[tuple[str, str]] = []
    for name, path in chosen.items():
        print(f"== {name}", flush=True)
        before = len(_report.RESULTS)
        error = run_one(name, path)
        measured = [r["name"] for r in _report.RESULTS[before:]]
        why = f"bench_{name} stopped: {error}" if error else f"bench_{name} did not measure it"
        missing += [(name, c, why) for c in expected[name] if c not in measured]
        undeclared += [(name, c) for c in measured if c not in expected[name]]

    for _name, claim, why in missing:
        print(f"MISSING  {claim}  [{why}]")
    for name, claim in undeclared:
        print(f"UNDECLARED  {claim}  [measured by bench_{name} but not in its CLAIMS]")
    total = sum(map(len, expected.values()))
    failed = [r for r in _report.RESULTS if not r["ok"]]
    declared = {c for claims in expected.values() for c in claims}
    met = sum(r["ok"] and r["name"] in declared for r in _report.RESULTS)
    print(
        f"{met} of {total} claims met, {len(failed)} missed, {len(missing)} not measured"
        + (f", {len(undeclared)} undeclared" if undeclared else "")
    )
    return 1 if failed or missing or undeclared else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
