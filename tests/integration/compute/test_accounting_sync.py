"""The service's accounting sync on the real test SLURM with accounting (slurmdbd + MariaDB): a
batch job a real user submitted, which no session reports, is charged within one sync interval
with ``sacct``'s own figures, and only once.

The sync runs as the service runs it (:func:`genesis_lab.service.accounting_sync.run_sync`, a
periodic task), here on an event loop of the test's own with a 2-second interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import threading
import time

import pytest
from fixtures.slurm import unix_user
from realparts import require

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(120)]

ACCOUNT = "sync-acct"
INTERVAL = 2.0


def sacct_row(slurm, job_id: str) -> dict[str, str]:
    keys = ("State", "AllocCPUS", "Start", "ElapsedRaw", "CPUTimeRAW", "User", "Account")
    out = slurm.run("sacct", "-n", "-P", "-X", "-j", job_id, "-o", ",".join(keys))
    return dict(zip(keys, out.strip().split("|"), strict=False)) if out.strip() else {}


def test_a_job_no_session_reports_is_charged_from_sacct_within_one_interval(slurm, tmp_path):
    from genesis_lab.compute.ledger import UsageRecord, get_ledger
    from genesis_lab.service.accounting_sync import run_sync
    from genesis_lab.settings import load_settings

    require(slurm.accounting, "SLURM accounting (slurmdbd + MariaDB)",
            "apt-get install slurmdbd mariadb-server (`make system`, as root)")  # fmt: skip
    user = unix_user("glsync-cy")
    slurm.add_association(ACCOUNT, user)
    settings = load_settings(home=tmp_path / "home").model_copy(update={
        "allocations": [{"id": "sync-slurm", "scheduler": "slurm", "account": ACCOUNT,
                         "queue": slurm.partition, "members": [user]}],
        "service": {"accounting_sync_seconds": INTERVAL},
    })  # fmt: skip
    ledger = get_ledger(settings)
    loop = asyncio.new_event_loop()
    task = loop.create_task(run_sync(settings))

    def serve() -> None:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        job = subprocess.run(
            ["runuser", "-u", user, "--", "sbatch", "--parsable", "-A", ACCOUNT,
             "-p", slurm.partition, "-J", "dask-worker", "-c", "2", "-o", "/dev/null",
             "--chdir", "/tmp", "--wrap", "sleep 3"],
            env={**os.environ, **slurm.env}, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert job.returncode == 0, job.stderr
        job_id = job.stdout.strip().split(";")[0]
        deadline = time.monotonic() + 60
        while (row := sacct_row(slurm, job_id)).get("State", "PENDING").split()[0] in (
            "PENDING", "RUNNING", "COMPLETING"):  # fmt: skip
            assert time.monotonic() < deadline, f"job {job_id} never ended in sacct: {row}"
            time.sleep(0.3)
        ended = time.monotonic()
        while not (recs := [r for r in ledger.records() if r.ref == job_id]):
            waited = time.monotonic() - ended
            assert waited < INTERVAL + 3, f"not charged {waited:.1f} s after it ended"
            time.sleep(0.2)
        print(f"job {job_id} charged {time.monotonic() - ended:.1f} s after sacct had its end")
        time.sleep(2 * INTERVAL)  # later passes charge it no more
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
    recs = [r for r in ledger.records() if r.ref == job_id]
    assert len(recs) == 1, recs
    rec = recs[0]
    assert (rec.allocation, rec.user, rec.kind, rec.source) == (
        "sync-slurm", user, "cluster", "sacct")  # fmt: skip
    assert row["User"] == user and row["Account"] == ACCOUNT
    assert rec.cores == int(row["AllocCPUS"]) == 2
    assert rec.core_hours == pytest.approx(int(row["CPUTimeRAW"]) / 3600, abs=1e-6)
    start = dt.datetime.fromisoformat(row["Start"]).timestamp()
    assert dt.datetime.fromisoformat(rec.start).timestamp() == pytest.approx(start, abs=1)
    # the session's own report of the job, arriving late, is not a second charge
    late = UsageRecord.from_times(allocation="sync-slurm", user=user, kind="cluster",
                                  ref=job_id, cores=2, start=start, end=start + 1,
                                  source="worker-lifetime")  # fmt: skip
    assert ledger.record(late, once=True) == rec
    assert len([r for r in ledger.records() if r.ref == job_id]) == 1
