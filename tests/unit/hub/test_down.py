"""``genesis-lab down`` signals only this platform's hub, never a process that inherited the pid
of a hub that crashed (Linux reuses pids; pid_max is 32768 on many machines)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from genesis_lab.cli import main
from genesis_lab.hub.config import hub_plan


@pytest.fixture
def stranger():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait(10)


def _pid_file(pid: int):
    plan = hub_plan()
    plan.state_dir.mkdir(parents=True, exist_ok=True)
    (plan.state_dir / "jupyterhub.pid").write_text(str(pid))
    assert plan.pid_file == str(plan.state_dir / "jupyterhub.pid")
    return plan


def test_a_stale_pid_file_naming_another_process_leaves_it_running(stranger, capsys):
    _pid_file(stranger.pid)
    assert main(["down", "--timeout", "2"]) == 0
    assert "names no live hub" in capsys.readouterr().out
    assert stranger.poll() is None


def test_a_jupyterhub_working_elsewhere_is_not_this_platforms_hub(tmp_path, capsys):
    # a process named like a hub, but in another folder: another platform's
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "jupyterhub"], cwd=tmp_path
    )
    try:
        _pid_file(other.pid)
        assert main(["down", "--timeout", "2"]) == 0
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(10)


def test_the_platforms_hub_is_stopped(capsys):
    plan = hub_plan()
    plan.state_dir.mkdir(parents=True, exist_ok=True)
    hub = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "jupyterhub"], cwd=plan.state_dir
    )
    try:
        _pid_file(hub.pid)
        assert main(["down", "--timeout", "10"]) == 0
        assert hub.wait(10) == -15
        assert f"stopped the hub (pid {hub.pid})" in capsys.readouterr().out
    finally:
        if hub.poll() is None:
            hub.kill()
