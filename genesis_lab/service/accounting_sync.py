"""The service's accounting sync: the site ledger fed from the batch system's accounting.

Every ``service.accounting_sync_seconds`` (default 60) the genesis service asks ``sacct``, for
each SLURM account of the site's allocations, which jobs ended since its last pass, and charges
every job that ran and the ledger does not hold yet (``source: sacct``), whatever the job's
session reported: a job its user reported for less is charged the rest of ``sacct``'s figure.
The cursor (the end of the last pass) is kept beside the ledger.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.access.unix import hub_user
from genesis_lab.compute.accounting import ended_jobs, sacct_command
from genesis_lab.compute.allocations import Allocation, validate_allocations
from genesis_lab.compute.commands import in_daemon_thread
from genesis_lab.compute.jobnames import allocation_for, allocation_of
from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.errors import GenesisError
from genesis_lab.fileio import atomic_write_text

if TYPE_CHECKING:
    from genesis_lab.settings import Settings

__all__ = ["job_kind", "run_sync", "sync_interval", "sync_once"]

DEFAULT_INTERVAL = 60.0
OVERLAP_S = 60.0  # each pass looks back this far before the cursor; charges are once per job
CURSOR = "accounting-cursor.json"
_said: dict[str, str] = {}  # the last failure told per account: told once, not every pass


def sync_interval(settings: Settings) -> float:
    """Seconds between passes (``service.accounting_sync_seconds``; 0 turns the sync off).

    >>> from genesis_lab.settings import Settings
    >>> sync_interval(Settings(service={"accounting_sync_seconds": 5}))
    5.0
    """
    return float(settings.service.get("accounting_sync_seconds", DEFAULT_INTERVAL))


def job_kind(name: str) -> str:
    """The ledger kind of a job by its name (hub sessions, dask workers, pipeline runs).

    >>> [job_kind(n) for n in ("genesis-session-ann", "gl-hpc-0a1b2c3d", "genesis-ch1", "x")]
    ['session', 'cluster', 'pipeline', 'job']
    """
    if name.startswith("genesis-session-"):
        return "session"
    if name.startswith("dask-worker") or allocation_of(name):
        return "cluster"
    if name.startswith("genesis-"):
        return "pipeline"
    return "job"


def _read_cursor(path: Path, now: float) -> float:
    try:
        return float(json.loads(path.read_text())["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return now - OVERLAP_S  # the first pass: from now on


def sync_once(settings: Settings, now: float | None = None) -> list[UsageRecord]:
    """One pass: charge every ended job of the site's SLURM accounts that the ledger lacks;
    returns the records added. An account whose ``sacct`` fails is tried again next pass.

    >>> import tempfile
    >>> from genesis_lab.settings import Settings
    >>> sync_once(Settings(home=tempfile.mkdtemp(), allocations=[]))
    []
    """
    now = time.time() if now is None else now
    ledger = get_ledger(settings)
    cursor = ledger.path.parent / CURSOR
    since = _read_cursor(cursor, now) - OVERLAP_S
    allocs = [a for a in validate_allocations(list(settings.allocations)).values() if a.account]
    by_account: dict[tuple[str, str], list[Allocation]] = {}
    for a in allocs:
        command = sacct_command(a.scheduler)
        if command:
            by_account.setdefault((command[0], str(a.account)), []).append(a)
    added: list[UsageRecord] = []
    held: dict[str, list[UsageRecord]] = {}
    for r in ledger.records() if by_account else ():
        held.setdefault(r.ref, []).append(r)
    failed = False
    for (binary, account), candidates in by_account.items():
        try:
            jobs = ended_jobs([binary], account, since, now)
        except GenesisError as exc:
            if _said.get(account) != str(exc):
                print(f"genesis service: accounting sync of account {account!r}: {exc}",
                      flush=True)  # fmt: skip
            _said[account] = str(exc)
            failed = True
            continue
        _said.pop(account, None)
        for job in jobs:
            earlier = held.get(job.job_id, [])
            if any(r.source == "sacct" for r in earlier):
                continue
            user = hub_user(job.user)
            alloc = allocation_for(job, user, candidates)
            if alloc is None:
                continue  # not a job of this site's users
            rec = UsageRecord.from_times(
                allocation=alloc.id, user=user, kind=job_kind(job.name),  # type: ignore[arg-type]
                ref=job.job_id, cores=job.cores, start=job.start, end=job.end, source="sacct",
            )  # fmt: skip
            reported = sum(r.core_hours for r in earlier if r.user == user)
            if reported:  # the session's own reports count; accounting's figure is the total
                rest = round(rec.core_hours - reported, 6)
                if rest <= 0:
                    continue
                rec = replace(rec, core_hours=rest)
            if ledger.record(rec) is rec:
                added.append(rec)
            held[job.job_id] = [rec]
    if by_account and not failed:
        ledger.folder()
        atomic_write_text(cursor, json.dumps({"until": now}) + "\n", mode=0o600)
    return added


async def run_sync(settings: Settings) -> None:
    """Run :func:`sync_once` every :func:`sync_interval` seconds until cancelled (not at all for
    an interval of 0 or a site without accounting)."""
    interval = sync_interval(settings)
    if interval <= 0:
        return
    while True:
        try:
            await in_daemon_thread(sync_once, settings)
        except (GenesisError, OSError) as exc:
            print(f"genesis service: accounting sync failed: {exc}", flush=True)
        await asyncio.sleep(interval)
