"""Run every ``benchmarks/bench_*.py`` (or those named) and print one line per claim.

Usage: python benchmarks/run.py [NAME ...]   e.g. ``python benchmarks/run.py import``
Exit code 1 if any claim misses its target.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import _report  # noqa: E402


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()
    failed = [r for r in _report.RESULTS if not r["ok"]]
    print(f"{len(_report.RESULTS) - len(failed)} claims met, {len(failed)} missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
