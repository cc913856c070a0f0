"""Sessions as SLURM jobs through the real hub: account, partition, stop, and scheduler faults."""

from __future__ import annotations

import pwd
import subprocess
import time

import pytest
from realparts import is_root, require

pytestmark = [pytest.mark.hub, pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(300)]

REPORT = """
import os
print("ALLOCATION", os.environ["GENESIS_ALLOCATION"])
print("JOB", os.environ.get("SLURM_JOB_ID"), os.environ.get("SLURM_JOB_ACCOUNT"))
print("DASK-ACCOUNT", os.environ.get("DASK_JOBQUEUE__SLURM__ACCOUNT"))
"""


def unix_user(name: str) -> str:
    """A real Unix account (with home) for a SLURM session user."""
    require(is_root(), "root", "SLURM sessions run as Unix users: run the tests as root")
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True)
    return name


def session_jobs(slurm, name: str) -> list[dict[str, str]]:
    return slurm.squeue(name=f"genesis-session-{name}")


def test_session_is_a_slurm_job_under_the_allocations_account(slurm_hub, slurm):
    name = slurm_hub.new_user(unix_user("glhub-ann"))
    r = slurm_hub.spawn(name, {"allocation": "physics-slurm", "cores": "1", "memory": "1GB"})
    assert r.status_code in (201, 202), r.text + slurm_hub.log()[-3000:]
    slurm_hub.wait_ready(name, timeout=120)
    jobs = session_jobs(slurm, name)
    assert len(jobs) == 1
    job = jobs[0]
    assert (job["account"], job["partition"], job["state"], job["user"]) == (
        "phys-acct", "debug", "RUNNING", name,
    )  # fmt: skip
    out = slurm_hub.run_code(name, REPORT)
    assert "ALLOCATION physics-slurm" in out
    assert f"JOB {job['id']} phys-acct" in out
    assert "DASK-ACCOUNT phys-acct" in out
    slurm_hub.stop_server(name)
    assert slurm.wait_no_jobs(name=f"genesis-session-{name}", timeout=30) == []


def test_a_local_allocation_is_refused_by_the_slurm_hub(slurm_hub):
    name = slurm_hub.new_user(unix_user("glhub-bea"))
    r = slurm_hub.spawn(name, {"allocation": "open-local"})
    assert r.status_code == 400
    assert "choose a SLURM allocation" in r.json()["message"]


def test_job_cancelled_outside_the_hub_marks_the_session_stopped(slurm_hub, slurm):
    name = slurm_hub.new_user(unix_user("glhub-cal"))
    assert slurm_hub.spawn(name, {"allocation": "physics-slurm"}).status_code in (201, 202)
    slurm_hub.wait_ready(name, timeout=120)
    job = session_jobs(slurm, name)[0]
    slurm.run("scancel", job["id"])
    admin = slurm_hub.ensure_admin_token()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the hub's own poll (every 2 s here) notices
        if "" not in slurm_hub.api("GET", f"/users/{name}", admin).json()["servers"]:
            break
        time.sleep(1)
    assert "" not in slurm_hub.api("GET", f"/users/{name}", admin).json()["servers"]
    assert session_jobs(slurm, name) == []


def test_a_job_that_dies_before_jupyterlab_starts_shows_the_schedulers_reason(slurm_hub, slurm):
    # a user without a home directory: the job cannot even chdir, and the spawn says why
    name = "glhub-nohome"
    require(is_root(), "root", "run as root")
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-M", "-d", "/nonexistent/glhub", name], check=True)
    name = slurm_hub.new_user(name)
    r = slurm_hub.spawn(name, {"allocation": "physics-slurm"})
    assert r.status_code >= 400
    assert "has no home directory" in r.json()["message"]
    assert session_jobs(slurm, name) == []
