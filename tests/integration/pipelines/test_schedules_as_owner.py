"""Schedules owned by real Unix users on the real single-node SLURM: the hub-managed scheduler
fires them as the owner under the allocation into the site's results store, and a job that
ends badly is marked failed with SLURM's reason."""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from fixtures.challenges import write_demo_challenge
from realparts import is_root, require

from genesis_lab.hub.accounts import useradd
from genesis_lab.pipelines import leaderboard
from genesis_lab.pipelines.scheduler import Journal, Scheduler
from genesis_lab.pipelines.schedules import ScheduleBook
from genesis_lab.settings import get_settings, reset_settings

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(300)]

GL = str(Path(sys.executable).parent / "genesis-lab")


def unix_user(name: str) -> pwd.struct_passwd:
    require(is_root(), "root", "scheduled runs as their owners need real Unix users")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        useradd(["-m", "-s", "/bin/bash", name])
        return pwd.getpwnam(name)


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached in {timeout} s")


def test_hub_scheduler_fires_an_owners_schedule_as_them_into_the_site_store(
    slurm_hub, slurm, monkeypatch
):
    owner = unix_user("glsch-ada")
    monkeypatch.setenv("GENESIS_HOME", slurm_hub.env["GENESIS_HOME"])
    monkeypatch.setenv("GENESIS_SITE_FILE", str(slurm_hub.site_file))
    reset_settings()
    settings = get_settings()
    interval = settings.pipelines.scheduler_interval
    s = ScheduleBook().add("codon-table-variants", "* * * * * */10", owner=owner.pw_name,
                           allocation="physics-slurm")  # fmt: skip
    journal = Journal(settings)
    seen: list[dict[str, str]] = []

    def claimed():
        seen.extend(slurm.squeue(name=f"genesis-schedule-{s.id}"))
        return journal.entries(s.id)

    [first, *_] = _wait(claimed, 2 * interval + 15, "a claimed slot")
    ScheduleBook().remove(s.id)
    slot = dt.datetime.fromisoformat(first["slot"])
    fired_after = dt.datetime.fromisoformat(first["claimed_at"]) - slot
    assert fired_after.total_seconds() <= interval + 5, fired_after

    def closed():
        seen.extend(slurm.squeue(name=f"genesis-schedule-{s.id}"))
        entry = journal.entries(s.id)[0]
        return entry if entry["status"] in ("completed", "failed") else None

    entry = _wait(closed, 150, "the run's end")
    assert entry["status"] == "completed", entry
    started = dt.datetime.fromisoformat(entry["started_at"])
    print(f"\nschedule due {slot.isoformat()}: claimed after {fired_after.total_seconds():.1f} s, "
          f"run started after {(started - slot).total_seconds():.1f} s")  # fmt: skip
    assert entry["account"] == owner.pw_name and entry["job_id"].isdigit()
    jobs = {j["id"]: j for j in seen}
    assert jobs[entry["job_id"]]["user"] == owner.pw_name
    assert jobs[entry["job_id"]]["account"] == "phys-acct"
    run = settings.results_root / "codon-table-variants" / entry["run_id"]
    assert run.stat().st_uid == owner.pw_uid
    status = json.loads((run / "status.json").read_text())
    assert (status["owner"], status["allocation"]) == (owner.pw_name, "physics-slurm")
    assert entry["run_id"] in [r.run_id for r in leaderboard("codon-table-variants")]
    own_store = Path(owner.pw_dir) / ".local/share/genesis-lab/results" / "codon-table-variants"
    assert not (own_store / entry["run_id"]).exists()  # the run is in the site store only


@pytest.fixture
def site(slurm, monkeypatch):
    """A site in a folder the owner's account can enter, with a SLURM allocation."""
    base = Path(tempfile.mkdtemp(prefix="gl-sched-site-"))
    os.chmod(base, 0o755)
    challenges = base / "challenges"
    write_demo_challenge(challenges)
    for p in challenges.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    os.chmod(challenges, 0o755)
    (base / "site.yaml").write_text(yaml.safe_dump({"allocations": [{
        "id": "semi-hpc", "account": "semi-2026", "scheduler": "slurm", "queue": "batch",
        "walltime": "00:05:00", "cores": 1, "memory": "1GB", "members": ["*"]}]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_HOME", str(base / "home"))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(base / "site.yaml"))
    monkeypatch.setenv("GENESIS_CHALLENGE_PATHS", str(challenges))
    reset_settings()
    yield base
    reset_settings()
    shutil.rmtree(base, ignore_errors=True)


def test_a_job_that_ends_badly_is_failed_with_slurms_reason(site, slurm):
    owner = unix_user("glsch-bo")
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    sched = Scheduler(clock=lambda: t0 + dt.timedelta(minutes=61), account_of=lambda o: o)
    sched.prepare_store()
    s = ScheduleBook().add("demo", "0 * * * *", owner=owner.pw_name, allocation="semi-hpc",
                           parameters={"sleep": "10"}, now=t0)  # fmt: skip
    [fired] = sched.tick()
    assert fired["status"] == "launched", fired.get("error")
    job = fired["job_id"]
    journal = Journal(get_settings())

    def status(want):
        sched.reconcile()
        entry = journal.entries(s.id)[0]
        return entry if entry["status"] == want else None

    _wait(lambda: status("running"), 60, "the run to start as its owner")
    slurm.run("scancel", job)
    entry = _wait(lambda: status("failed"), 60, "the cancelled run marked failed")
    assert entry["error"]["evalue"].startswith(f"SLURM job {job} ended CANCELLED"), entry
    assert "notified" in entry


def test_a_results_folder_the_user_cannot_write_is_named_with_the_fix(site):
    owner = unix_user("glsch-bo")
    store = site / "locked-results"
    store.mkdir(mode=0o755)  # root's, not shared
    env = {"PATH": os.environ["PATH"], "GENESIS_RESULTS_ROOT": str(store),
           "GENESIS_CHALLENGE_PATHS": str(site / "challenges"), "HOME": owner.pw_dir}  # fmt: skip
    proc = subprocess.run(["runuser", "-u", owner.pw_name, "--", GL, "challenge", "run", "demo"],
                          capture_output=True, text=True, env=env, cwd="/", timeout=120)  # fmt: skip
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert str(store / "demo") in proc.stderr and f"chmod 1777 {store / 'demo'}" in proc.stderr
