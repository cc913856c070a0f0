"""The watchdog charges the jobs it cancels after its owner died: inside a hub session through a
real genesis service process into the site ledger (the session cannot write that file), outside
one into the ledger file it was given; a charge the service refuses is said, the jobs still go.

The batch scheduler is a stand-in (``squeue``/``scancel`` on PATH reading one JSON file): what is
tested is where the charges go, not SLURM."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import psutil
import pytest
from fixtures.genesis_service import genesis_service

ALLOCS = [
    {"id": "fusion-hpc", "scheduler": "slurm", "account": "fes", "queue": "debug",
     "members": ["alice"]},
    {"id": "theirs", "scheduler": "slurm", "account": "x", "queue": "debug", "members": ["bob"]},
]  # fmt: skip
TOKEN = "alices-session-token"
JOB_NAME = "gl-fusion-hpc-0a1b2c3d"

FAKE_SCHEDULER = """\
import datetime as dt, json, sys
from pathlib import Path
state = Path(__file__).with_name("queue.json")
q = json.loads(state.read_text())
if Path(sys.argv[0]).name == "scancel":
    q["cancelled"] += sys.argv[1:]
    state.write_text(json.dumps(q))
    sys.exit(0)
assert sys.argv[sys.argv.index("--name") + 1] == q["name"], sys.argv
for job in q["jobs"]:
    if job["id"] in q["cancelled"]:
        continue
    if "--states" in sys.argv:  # id|cpus|start, the start in local time as squeue prints it
        start = dt.datetime.fromtimestamp(job["start"]).isoformat(timespec="seconds")
        print(f"{job['id']}|{job['cores']}|{start}")
    else:
        print(job["id"])
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with genesis_service(tmp_path_factory.mktemp("service-home"), ALLOCS, {TOKEN: "alice"}) as svc:
        yield svc


def _scheduler(folder: Path, jobs: list[dict]) -> Path:
    """A ``bin`` folder whose ``squeue`` lists ``jobs`` until ``scancel`` cancels them."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "queue.json").write_text(json.dumps({"name": JOB_NAME, "jobs": jobs,
                                                    "cancelled": []}))  # fmt: skip
    for name in ("squeue", "scancel"):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{FAKE_SCHEDULER}")
        script.chmod(0o755)
    return bin_dir


def _dead_owner() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _watchdog(bin_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "genesis_lab.compute.watchdog", "--pid", str(_dead_owner()),
         "--started", "0", "--scheduler", "slurm", "--job-name", JOB_NAME, "--poll", "0.05",
         *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def _check_charged(recs: list[dict], jobs: list[dict], user: str, t0: float, t1: float) -> None:
    """One ``job-lifetime`` record per job: its cores from its start until the watchdog ran."""
    assert sorted(r["ref"] for r in recs) == sorted(j["id"] for j in jobs)
    for job in jobs:
        rec = next(r for r in recs if r["ref"] == job["id"])
        assert (rec["allocation"], rec["user"], rec["kind"], rec["source"], rec["cores"]) == (
            "fusion-hpc", user, "cluster", "job-lifetime", job["cores"])  # fmt: skip
        assert _epoch(rec["start"]) == job["start"]
        assert t0 - 1 <= _epoch(rec["end"]) <= t1 + 1  # ISO times keep whole seconds
        low = job["cores"] * (t0 - 1 - job["start"]) / 3600
        high = job["cores"] * (t1 + 1 - job["start"]) / 3600
        assert low <= rec["core_hours"] <= high


def _session_env(home: Path, service) -> dict[str, str]:
    """What a hub session's processes have: their own home, the service and their token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    return {**env, "GENESIS_HOME": str(home), "GENESIS_SERVICE_URL": service.url,
            "JUPYTERHUB_API_TOKEN": TOKEN, "JUPYTERHUB_USER": "alice"}  # fmt: skip


def _jobs(n: int, prefix: str) -> list[dict]:
    start = int(time.time()) - 1800
    return [{"id": f"{prefix}{i}", "cores": 2 + i, "start": start - 600 * i} for i in range(n)]


@pytest.mark.parametrize("names_a_ledger", [False, True])
def test_in_a_session_cancelled_jobs_are_charged_through_the_service(
    service, tmp_path, names_a_ledger
):
    prefix = f"s{int(names_a_ledger)}-"
    jobs = _jobs(2, prefix)
    bin_dir = _scheduler(tmp_path, jobs)
    own_ledger = tmp_path / "session-home" / "state" / "service" / "ledger" / "usage.jsonl"
    extra = ["--ledger", str(own_ledger)] if names_a_ledger else []
    t0 = time.time()
    out = _watchdog(bin_dir, _session_env(tmp_path / "session-home", service),
                    "--allocation", "fusion-hpc", "--user", "alice", *extra)  # fmt: skip
    t1 = time.time()
    assert out.returncode == 0, out.stderr
    queue = json.loads((bin_dir / "queue.json").read_text())
    assert sorted(queue["cancelled"]) == sorted(j["id"] for j in jobs)
    recs = [r for r in service.ledger_lines() if r["ref"].startswith(prefix)]
    _check_charged(recs, jobs, "alice", t0, t1)
    assert not own_ledger.exists()  # nothing went to a file only this session would see


def test_a_charge_the_service_refuses_is_said_and_the_jobs_still_go(service, tmp_path):
    jobs = _jobs(1, "refused-")
    bin_dir = _scheduler(tmp_path, jobs)
    out = _watchdog(bin_dir, _session_env(tmp_path / "home", service),
                    "--allocation", "theirs", "--user", "alice")  # fmt: skip
    assert out.returncode == 1
    assert "job refused-0 not charged" in out.stderr and "not a member" in out.stderr
    assert json.loads((bin_dir / "queue.json").read_text())["cancelled"] == ["refused-0"]
    assert not [r for r in service.ledger_lines() if r["ref"].startswith("refused-")]


def test_outside_a_session_cancelled_jobs_go_to_the_ledger_file_given(tmp_path):
    from genesis_lab.compute.ledger import Ledger

    jobs = _jobs(2, "local-")
    bin_dir = _scheduler(tmp_path, jobs)
    ledger = tmp_path / "ledger" / "usage.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    t0 = time.time()
    out = _watchdog(bin_dir, {**env, "GENESIS_HOME": str(tmp_path / "home")},
                    "--allocation", "fusion-hpc", "--user", "carol", "--ledger", str(ledger))  # fmt: skip
    t1 = time.time()
    assert out.returncode == 0, out.stderr
    recs = [asdict(r) for r in Ledger(ledger).records()]
    _check_charged(recs, jobs, "carol", t0, t1)


def test_a_batch_system_ending_the_session_makes_it_cancel_and_charge_the_jobs(tmp_path):
    """SIGTERM while the owner still lives (SLURM signals every process of an ending session
    job): the jobs go and are charged; SIGUSR2 (the cluster closed them itself): neither."""
    from genesis_lab.compute.ledger import Ledger

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    for signum, prefix in ((signal.SIGTERM, "ending-"), (signal.SIGUSR2, "closed-")):
        folder = tmp_path / prefix
        folder.mkdir()
        jobs = _jobs(1, prefix)
        bin_dir = _scheduler(folder, jobs)
        ledger = folder / "usage.jsonl"
        owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            started = psutil.Process(owner.pid).create_time()
            watchdog = subprocess.Popen(
                [sys.executable, "-m", "genesis_lab.compute.watchdog", "--pid", str(owner.pid),
                 "--started", repr(started), "--scheduler", "slurm", "--job-name", JOB_NAME,
                 "--poll", "0.05", "--allocation", "fusion-hpc", "--user", "carol",
                 "--ledger", str(ledger)],
                env={**env, "GENESIS_HOME": str(folder / "home"),
                     "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
            )  # fmt: skip
            time.sleep(2)  # polling its owner by now
            assert watchdog.poll() is None
            watchdog.send_signal(signum)
            assert watchdog.wait(60) == 0
        finally:
            owner.kill()
            owner.wait()
        cancelled = json.loads((bin_dir / "queue.json").read_text())["cancelled"]
        charged = [r.ref for r in Ledger(ledger).records()]
        if signum == signal.SIGTERM:
            assert cancelled == charged == [jobs[0]["id"]]
        else:
            assert cancelled == charged == []
