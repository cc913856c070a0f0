"""SIGKILL the runner at random moments: nothing partial is ever presented as a complete result."""

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from genesis_lab.pipelines import leaderboard, run
from genesis_lab.settings import get_settings

GL = str(Path(sys.executable).parent / "genesis-lab")


@pytest.mark.slow
def test_runner_killed_at_random_points_leaves_only_complete_runs(demo_challenge):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    outcomes = []
    for i in range(20):
        proc = subprocess.Popen(
            [
                GL,
                "challenge",
                "run",
                "demo",
                "--force",
                "-p",
                "n",
                str(i + 1),
                "-p",
                "sleep",
                "0.2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 3.0))
        proc.kill()
        outcomes.append(proc.wait())
    folder = get_settings().results_root / "demo"
    complete = 0
    for path in sorted(folder.iterdir()) if folder.exists() else []:
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
        complete += 1
    assert len(leaderboard("demo")) == complete
    # the next run clears the working folders the killed runners left, and succeeds
    assert run("demo", n=3).status == "completed"
    assert not list(folder.glob(".tmp-*"))
    print(f"seed {seed}: {complete} of 20 killed runners had finished; exit codes {outcomes}")
