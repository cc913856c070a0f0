"""SIGKILL the runner at random moments: nothing partial is ever presented as a complete result."""

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from genesis_lab.pipelines import leaderboard, run
from genesis_lab.settings import get_settings

GL = str(Path(sys.executable).parent / "genesis-lab")
KILLED = 9


@pytest.mark.slow
def test_runner_killed_at_random_points_leaves_only_complete_runs(demo_challenge):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)

    def runner(n: int) -> subprocess.Popen:
        return subprocess.Popen(
            [GL, "challenge", "run", "demo", "--force", "-p", "n", str(n), "-p", "sleep", "0.2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    # the first runner is left alone: it must finish, and its time spans the kill moments
    t0 = time.monotonic()
    exit_codes = {1: runner(1).wait(timeout=300)}  # n -> the runner's exit code
    duration = time.monotonic() - t0
    for n in range(2, 2 + KILLED):
        proc = runner(n)
        time.sleep(rng.uniform(0.05, 1.2 * duration))  # some die before the end, some after
        proc.kill()
        exit_codes[n] = proc.wait()
    finished = {n for n, code in exit_codes.items() if code == 0}
    killed = {n for n, code in exit_codes.items() if code == -signal.SIGKILL}
    assert finished | killed == set(exit_codes), (seed, exit_codes)  # no runner failed by itself
    assert 1 in finished, (seed, exit_codes)
    folder = get_settings().results_root / "demo"
    complete: set[int] = set()
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue  # hidden working folders and the cache index are never results
        status = json.loads((path / "status.json").read_text())
        assert status["status"] == "completed", (seed, path)
        nb = nbformat.read(path / "notebook.ipynb", as_version=4)
        assert all(c.execution_count for c in nb.cells if c.cell_type == "code"), (seed, path)
        n = status["parameters"]["n"]
        metrics = json.loads((path / "metrics.json").read_text())
        assert metrics == {"total": float(sum(range(n))), "terms": n}, (seed, path)
        crate = json.loads((path / "ro-crate-metadata.json").read_text())
        assert any(e["@type"] == "CreateAction" for e in crate["@graph"])
        assert n not in complete, (seed, n)  # one result per run
        complete.add(n)
    # every runner that exited 0 left its run; a killed one may have, if it was killed after
    # the result was moved into place (then it is complete, as checked above)
    assert finished <= complete, (seed, sorted(finished), sorted(complete))
    # the leaderboard holds exactly these runs, best (largest sum of range(n)) first
    board = leaderboard("demo")
    assert [r.parameters["n"] for r in board] == sorted(complete, reverse=True), seed
    # the next run clears the working folders the killed runners left, and succeeds
    again = run("demo", n=3, force=True)
    assert again.status == "completed" and again.metrics == {"total": 3.0, "terms": 3}
    assert not list(folder.glob(".tmp-*"))
    print(
        f"seed {seed}: one run takes {duration:.1f} s; {len(complete)} of {1 + KILLED} runners "
        f"left a run ({len(finished)} exited 0); exit codes {exit_codes}"
    )
