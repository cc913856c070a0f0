"""benchmarks/run.py counts the claims each benchmark declares: a claim that was skipped, cut short
by an error, or made without being declared fails the run, like a claim that missed its target."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(claims: tuple[str, ...], body: str) -> str:
    return f"from _report import claim, context\n\nCLAIMS = {claims!r}\n\n\ndef main():\n" + (
        textwrap.indent(textwrap.dedent(body), "    ")
    )


def _run(tmp_path: Path, benches: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    for name in ("run.py", "_report.py"):
        shutil.copy(BENCHMARKS / name, tmp_path / name)
    for name, source in benches.items():
        (tmp_path / f"bench_{name}.py").write_text(source)
    return subprocess.run([sys.executable, str(tmp_path / "run.py"), *args],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


FAST = _bench(("fast", "small"), 'claim("fast", 1.0, 2.0)\nclaim("small", 3.0, 2.0, op=">=")\n')


def test_all_declared_claims_met_exits_0(tmp_path):
    out = _run(tmp_path, {"a": FAST})
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1] == "2 of 2 claims met, 0 missed, 0 not measured"


def test_a_benchmark_that_skips_itself_fails_naming_the_claim(tmp_path):
    skip = _bench(("browser claim",), 'print("SKIP  no browser")\nreturn\n')
    out = _run(tmp_path, {"a": FAST, "b": skip})
    assert out.returncode == 1
    assert "MISSING  browser claim  [bench_b did not measure it]" in out.stdout
    assert out.stdout.splitlines()[-1] == "2 of 3 claims met, 0 missed, 1 not measured"


def test_a_benchmark_that_raises_after_one_claim_fails_and_the_others_still_run(tmp_path):
    broken = _bench(("first", "second"), 'claim("first", 1.0, 2.0)\nraise RuntimeError("no hub")\n')
    out = _run(tmp_path, {"a": broken, "b": FAST})
    assert out.returncode == 1
    assert "MISSING  second  [bench_a stopped: RuntimeError: no hub]" in out.stdout
    assert "PASS  fast" in out.stdout  # bench_b ran after bench_a failed
    assert out.stdout.splitlines()[-1] == "3 of 4 claims met, 0 missed, 1 not measured"


def test_a_benchmark_that_cannot_import_has_its_claims_missing(tmp_path):
    broken = "import no_such_module_anywhere\n" + _bench(("needs it",), "pass\n")
    out = _run(tmp_path, {"a": broken})
    assert out.returncode == 1
    assert "MISSING  needs it  [bench_a stopped: ModuleNotFoundError" in out.stdout


def test_a_missed_target_and_an_undeclared_claim_fail(tmp_path):
    miss = _bench(("fast",), 'claim("fast", 3.0, 2.0)\n')
    out = _run(tmp_path, {"a": miss})
    assert out.returncode == 1 and "FAIL  fast" in out.stdout
    extra = _bench(("fast",), 'claim("fast", 1.0, 2.0)\nclaim("surprise", 1.0, 2.0)\n')
    out = _run(tmp_path, {"a": extra})
    assert out.returncode == 1
    assert "UNDECLARED  surprise" in out.stdout


def test_context_figures_are_printed_not_counted(tmp_path):
    ctx = _bench(("fast",), 'claim("fast", 1.0, 2.0)\ncontext("rounds", 0.25)\n')
    out = _run(tmp_path, {"a": ctx})
    assert out.returncode == 0, out.stdout
    assert "INFO  rounds: 0.25 (context, not a claim)" in out.stdout
    assert out.stdout.splitlines()[-1] == "1 of 1 claims met, 0 missed, 0 not measured"


def test_only_named_benchmarks_run_and_unknown_names_are_refused(tmp_path):
    skip = _bench(("browser claim",), "return\n")
    out = _run(tmp_path, {"a": FAST, "b": skip}, "a")
    assert out.returncode == 0 and "== b" not in out.stdout
    out = _run(tmp_path, {"a": FAST}, "nope")
    assert out.returncode == 2 and "no benchmark nope; choose from a" in out.stderr


def test_every_shipped_benchmark_declares_its_claims():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--list"],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    sections: dict[str, list[str]] = {}
    for line in out.stdout.splitlines()[:-1]:
        if line.startswith("== "):
            sections[line[3:]] = []
        else:
            sections[list(sections)[-1]].append(line.strip())
    shipped = {p.stem.removeprefix("bench_") for p in BENCHMARKS.glob("bench_*.py")}
    assert set(sections) == shipped
    for name, claims in sections.items():
        assert claims and len(set(claims)) == len(claims), name
    total = sum(map(len, sections.values()))
    assert out.stdout.splitlines()[-1] == f"{total} claims"
