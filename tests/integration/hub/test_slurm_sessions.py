"""Sessions as SLURM jobs through the real hub: account, partition, stop, and scheduler faults."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import subprocess
import time

import pytest
import requests
from fixtures.slurm import unix_user
from realparts import is_root, require

pytestmark = [pytest.mark.hub, pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(300)]

REPORT = """
import os
print("ALLOCATION", os.environ["GENESIS_ALLOCATION"])
print("JOB", os.environ.get("SLURM_JOB_ID"), os.environ.get("SLURM_JOB_ACCOUNT"))
print("DASK-ACCOUNT", os.environ.get("DASK_JOBQUEUE__SLURM__ACCOUNT"))
"""


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
    # physics-slurm shares its account with other allocations: the job says which one it is for
    assert job["comment"] == "genesis-allocation=physics-slurm"
    out = slurm_hub.run_code(name, REPORT)
    assert "ALLOCATION physics-slurm" in out
    assert f"JOB {job['id']} phys-acct" in out
    assert "DASK-ACCOUNT phys-acct" in out
    slurm_hub.stop_server(name)
    assert slurm.wait_no_jobs(name=f"genesis-session-{name}", timeout=30) == []


SUBMIT_A_WORKER_JOB = """
import subprocess
from genesis_lab.compute.jobnames import session_job_id, worker_job_name
name = worker_job_name("physics-slurm", session_job_id())
out = subprocess.run(["sbatch", "--parsable", "-A", "phys-acct", "-p", "debug", "-J", name,
                      "-o", "/dev/null", "--wrap", "sleep 600"], capture_output=True, text=True)
print("WORKER", out.stdout.strip(), name, out.stderr.strip())
"""


def submit_a_worker_job(hub, name: str, session: str) -> str:
    """From inside ``name``'s session, a batch job named for it (as a cluster's); its name."""
    out = hub.run_code(name, SUBMIT_A_WORKER_JOB)
    line = next((ln for ln in out.splitlines() if ln.startswith("WORKER ")), "")
    job, job_name = [*line.split()[1:3], "", ""][:2]
    assert job.isdigit() and job_name.endswith(f"-s{session}"), out
    return job_name


def test_a_stopped_sessions_worker_jobs_are_cancelled_by_the_hub(slurm_hub, slurm):
    # a job named for the session, with no cluster and no watchdog in the session to cancel it:
    # only the hub's sweep after the session ends can
    name = slurm_hub.new_user(unix_user("glhub-wrk"))
    spawn_ready(slurm_hub, name)
    job_name = submit_a_worker_job(slurm_hub, name, session_jobs(slurm, name)[0]["id"])
    assert slurm.squeue(name=job_name)
    slurm_hub.stop_server(name)
    assert slurm.wait_no_jobs(name=job_name, timeout=30) == []
    assert session_jobs(slurm, name) == []


def test_a_local_allocation_is_refused_by_the_slurm_hub(slurm_hub):
    name = slurm_hub.new_user(unix_user("glhub-bea"))
    r = slurm_hub.spawn(name, {"allocation": "open-local"})
    assert r.status_code == 400
    assert "choose a SLURM allocation" in r.json()["message"]


def test_a_hub_user_named_like_a_system_account_gets_no_session_as_it(slurm_hub, slurm):
    name = slurm_hub.new_user("daemon")  # Debian's daemon account, uid 1
    r = slurm_hub.spawn(name, {"allocation": "physics-slurm", "cores": "1", "memory": "1GB"})
    assert r.status_code == 403, r.text
    assert "'daemon' is a system account (uid 1)" in r.json()["message"]
    assert not session_jobs(slurm, name)


def test_job_cancelled_outside_the_hub_marks_the_session_stopped(slurm_hub, slurm):
    name = slurm_hub.new_user(unix_user("glhub-cal"))
    assert slurm_hub.spawn(name, {"allocation": "physics-slurm"}).status_code in (201, 202)
    slurm_hub.wait_ready(name, timeout=120)
    job = session_jobs(slurm, name)[0]
    worker_name = submit_a_worker_job(slurm_hub, name, job["id"])
    assert slurm.squeue(name=worker_name)
    slurm.run("scancel", job["id"])
    admin = slurm_hub.ensure_admin_token()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the hub's own poll (every 2 s here) notices
        if "" not in slurm_hub.api("GET", f"/users/{name}", admin).json()["servers"]:
            break
        time.sleep(1)
    assert "" not in slurm_hub.api("GET", f"/users/{name}", admin).json()["servers"]
    assert session_jobs(slurm, name) == []
    # the session's worker job goes too (the hub's sweep once the session job is gone)
    assert slurm.wait_no_jobs(name=worker_name, timeout=45) == []


def test_a_user_without_a_home_directory_is_refused_before_submission(slurm_hub, slurm):
    # the job could not even chdir: refuse before sbatch, and say why
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


def spawn_ready(hub, name: str) -> None:
    r = hub.spawn(name, {"allocation": "physics-slurm", "cores": "1", "memory": "1GB"})
    assert r.status_code in (201, 202), r.text
    hub.wait_ready(name, timeout=120)


def server_of(hub, name: str) -> dict | None:
    return hub.api("GET", f"/users/{name}", hub.ensure_admin_token()).json()["servers"].get("")


@contextlib.contextmanager
def controller_outage(slurm):
    """slurmctld frozen (SIGSTOP): squeue and scancel time out, as in a controller outage."""
    pid = slurm.pids["slurmctld"]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_controller_outage_neither_stops_the_session_nor_forgets_its_job(slurm_hub, slurm):
    name = slurm_hub.new_user(unix_user("glhub-dan"))
    spawn_ready(slurm_hub, name)
    job = session_jobs(slurm, name)[0]
    token = slurm_hub.user_token(name)
    with controller_outage(slurm):
        time.sleep(8)  # several hub polls (every 2 s) meet an unreadable squeue
        assert server_of(slurm_hub, name)["ready"], "session marked stopped while its job runs"
        r = requests.get(f"{slurm_hub.url}/user/{name}/api/status",
                         headers={"Authorization": f"token {token}"}, timeout=30)  # fmt: skip
        assert r.status_code == 200
        # the user stops the session while scancel cannot reach the controller
        slurm_hub.api("DELETE", f"/users/{name}/server", token, timeout=150)
        deadline = time.monotonic() + 90
        while server_of(slurm_hub, name) is not None and time.monotonic() < deadline:
            time.sleep(1)
        assert server_of(slurm_hub, name) is None
    # once the controller answers again, the remembered job is cancelled
    assert slurm.wait_no_jobs(name=f"genesis-session-{name}", timeout=60) == []
    assert job["id"] not in slurm.run("squeue", "-h", "-o", "%i")
    assert "will be cancelled later" in slurm_hub.log()


def test_sbatch_refusal_is_shown_with_the_schedulers_words(slurm_hub):
    name = slurm_hub.new_user(unix_user("glhub-eve"))
    r = slurm_hub.spawn(name, {"allocation": "nowhere-slurm"})
    assert r.status_code == 500
    message = r.json()["message"]
    assert "SLURM refused the session job" in message
    assert "partition" in message.lower()


def test_a_job_that_fails_at_launch_reports_the_schedulers_reason(slurm_hub, slurm):
    name = unix_user("glhub-fay")
    home = pwd.getpwnam(name).pw_dir
    os.chown(home, 0, 0)  # the job cannot write its log: slurmd fails it at launch
    os.chmod(home, 0o755)
    name = slurm_hub.new_user(name)
    r = slurm_hub.spawn(name, {"allocation": "physics-slurm", "memory": "1GB"})
    if r.status_code in (201, 202):
        deadline = time.monotonic() + 60
        while server_of(slurm_hub, name) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        progress = slurm_hub.api("GET", f"/users/{name}/server/progress",
                                 slurm_hub.user_token(name)).text  # fmt: skip
        message = progress
    else:
        message = r.json()["message"]
    assert "ended before JupyterLab started" in message, message
    assert "JobState=" in message or "ExitCode" in message, message
    assert session_jobs(slurm, name) == []


def test_pending_job_shows_queue_state_and_can_be_cancelled(slurm_hub, slurm):
    blocker = slurm.run("sbatch", "--parsable", "-p", "debug", "-c", str(slurm.cpus), "-t", "10",
                        "-J", "glhub-blocker", "--wrap", "sleep 600").strip()  # fmt: skip
    try:
        name = slurm_hub.new_user(unix_user("glhub-gus"))
        r = slurm_hub.spawn(name, {"allocation": "physics-slurm", "memory": "1GB"})
        assert r.status_code == 202, r.text
        token = slurm_hub.user_token(name)
        events = []
        http = slurm_hub.new_session()
        with http.get(f"{slurm_hub.api_url}/users/{name}/server/progress", stream=True,
                          headers={"Authorization": f"token {token}"}, timeout=60) as stream:  # fmt: skip
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    events.append(json.loads(line[5:])["message"])
                    if any("position" in e for e in events):
                        break
        text = " | ".join(events)
        assert "pending in the queue (PENDING)" in text, text
        assert "position 1" in text and "reason: Resources" in text, text
        page = slurm_hub.login(name).get(f"{slurm_hub.url}/hub/spawn-pending/{name}", timeout=30)
        assert "Cancel" in page.text
        slurm_hub.api("DELETE", f"/users/{name}/server", token, timeout=150)
        assert slurm.wait_no_jobs(name=f"genesis-session-{name}", timeout=60) == []
        assert server_of(slurm_hub, name) is None
    finally:
        slurm.run("scancel", blocker, check=False)


def test_hub_restart_reattaches_to_the_running_session_job(slurm_hub, slurm):
    name = slurm_hub.new_user(unix_user("glhub-hal"))
    spawn_ready(slurm_hub, name)
    job = session_jobs(slurm, name)[0]
    token = slurm_hub.user_token(name)
    slurm_hub.restart()
    assert server_of(slurm_hub, name)["ready"]
    r = requests.get(f"{slurm_hub.url}/user/{name}/api/status",
                     headers={"Authorization": f"token {token}"}, timeout=30)  # fmt: skip
    assert r.status_code == 200
    assert [j["id"] for j in session_jobs(slurm, name)] == [job["id"]]  # the same job, no second
    slurm_hub.stop_server(name)
    assert slurm.wait_no_jobs(name=f"genesis-session-{name}", timeout=30) == []
