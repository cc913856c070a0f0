"""``challenge submit`` and scheduled runs as batch jobs on the real single-node SLURM."""

import datetime as dt
import time

import pytest
import yaml

from genesis_lab.compute.ledger import get_ledger
from genesis_lab.pipelines import leaderboard, submit
from genesis_lab.pipelines.scheduler import Journal, Scheduler
from genesis_lab.pipelines.schedules import ScheduleBook
from genesis_lab.settings import get_settings, reset_settings

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def slurm_allocation(slurm, demo_challenge, tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [{
        "id": "semi-hpc", "account": "semi-2026", "scheduler": "slurm", "queue": "batch",
        "walltime": "00:05:00", "cores": 1, "memory": "1GB", "members": ["*"]}]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return "semi-hpc"


def _wait_done(slurm, name, timeout=180):
    slurm.wait_no_jobs(name=name, timeout=timeout)


def test_submit_runs_the_challenge_as_a_job_of_the_allocation(slurm, slurm_allocation):
    t0 = time.monotonic()
    job = submit("demo", allocation=slurm_allocation, n=7, sleep=3)
    assert job.isdigit()
    seen = []
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline:
        seen = [j for j in slurm.squeue(name="genesis-demo") if j["id"] == job]
        time.sleep(0.2)
    assert seen, "the job never showed in squeue"
    assert seen[0]["account"] == "semi-2026" and seen[0]["partition"] == "batch"
    _wait_done(slurm, "genesis-demo")
    [record] = leaderboard("demo")
    assert record.state == "completed", (get_settings().results_root / "demo" / ".jobs").glob(
        "*.out"
    )
    assert record.metrics == {"total": 21.0, "terms": 7}
    assert record.status["allocation"] == "semi-hpc"
    # the job charged itself to the site ledger when it ended: one core for at least the
    # challenge's 3 s sleep, and no longer than the test waited
    waited = time.monotonic() - t0
    [charged] = [r for r in get_ledger().records() if r.ref == job]
    assert (charged.allocation, charged.kind, charged.cores) == ("semi-hpc", "pipeline", 1)
    assert 3 / 3600 <= charged.core_hours <= (waited + 1) / 3600, (charged, waited)


def test_a_schedule_with_a_slurm_allocation_fires_as_a_batch_job(slurm, slurm_allocation):
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    s = ScheduleBook().add("demo", "0 * * * *", allocation=slurm_allocation, parameters={"n": "5"},
                           now=t0)  # fmt: skip
    [fired] = Scheduler(clock=lambda: t0 + dt.timedelta(minutes=61)).tick()
    assert fired["status"] == "launched" and fired["job_id"].isdigit()
    _wait_done(slurm, f"genesis-schedule-{s.id}")
    [entry] = Journal(get_settings()).entries(s.id)
    assert entry["status"] == "completed", entry
    assert entry["metrics"] == {"total": 10.0, "terms": 5}
