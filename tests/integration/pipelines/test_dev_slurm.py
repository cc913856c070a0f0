"""``genesis-lab dev slurm``: a trial single-node SLURM that runs a job, reports and stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from realparts import is_root, require

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(180)]

GL = str(Path(sys.executable).parent / "genesis-lab")


def _gl(*args):
    return subprocess.run([GL, "dev", "slurm", *args], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_dev_slurm_starts_runs_a_job_and_stops():
    require(is_root(), "root", "a single-node SLURM needs root")
    folder = Path(tempfile.mkdtemp(prefix="gl-dev-slurm-")) / "slurm"
    started = _gl("start", "--dir", str(folder), "--json")
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)
    try:
        assert info["running"] and Path(info["slurm_conf"]).is_file()
        env = {**os.environ, "SLURM_CONF": info["slurm_conf"]}
        out = subprocess.run(["srun", "-p", "debug", "hostname"], capture_output=True, text=True,
                             env=env, timeout=60, check=False)  # fmt: skip
        assert out.returncode == 0 and out.stdout.strip(), out.stderr
        assert _gl("status", "--dir", str(folder)).returncode == 0
    finally:
        stopped = _gl("stop", "--dir", str(folder), "--json")
    assert stopped.returncode == 0 and not json.loads(stopped.stdout)["running"]
    for pid in info["pids"].values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
