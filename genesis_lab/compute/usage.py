"""Charges the usage ledger for the workers of a cluster, from inside its dask scheduler.

``sacct`` is asked first (scheduler accounting); without it, worker lifetimes are recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

from genesis_lab.compute.commands import run_command
from genesis_lab.compute.ledger import Ledger, UsageRecord
from genesis_lab.errors import SchedulerError

__all__ = ["UsagePlugin", "sacct_usage"]


def sacct_usage(
    command: list[str], job_id: str, now: float | None = None
) -> tuple[int, float, float] | None:
    """(cores, start, end) of a job from ``sacct``; None when accounting cannot answer.

    >>> sacct_usage(["false", "{job_id}"], "1") is None
    True
    """
    try:
        out = run_command([a.replace("{job_id}", job_id) for a in command], timeout=10).stdout
    except SchedulerError:
        return None
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 4 or not parts[0].isdigit() or not parts[3].isdigit():
            continue
        cores, start_text, elapsed = int(parts[0]), parts[1], int(parts[3])
        try:
            start = dt.datetime.fromisoformat(start_text).timestamp()
        except ValueError:
            return None
        return cores, start, start + elapsed if elapsed else (now or time.time())
    return None


class UsagePlugin(SchedulerPlugin):
    """Appends one ledger record per worker (or per job, with ``sacct``) when it leaves."""

    name = "genesis-usage"

    def __init__(
        self,
        *,
        ledger: Ledger,
        allocation: str,
        user: str,
        sacct: list[str] | None = None,
        job_id_of: Callable[[str], str | None] | None = None,
    ):
        self.ledger = ledger
        self.allocation = allocation
        self.user = user
        self.sacct = sacct
        self.job_id_of = job_id_of or (lambda name: None)
        self.active: dict[str, tuple[str, int, float, str | None]] = {}
        self.charged_jobs: set[str] = set()
        self.records: list[UsageRecord] = []

    def add_worker(self, scheduler: Any, worker: str) -> None:
        ws = scheduler.workers.get(worker)
        if ws is None:
            return
        name = str(ws.name)
        self.active[worker] = (name, int(ws.nthreads), time.time(), self.job_id_of(name))

    def remove_worker(self, scheduler: Any, worker: str, *, stimulus_id: str, **kw: Any) -> Any:
        entry = self.active.pop(worker, None)
        if entry is None:
            return None
        end = time.time()
        if self.sacct and entry[3]:
            # sacct is a subprocess: run it off the event loop, shielded so a closing
            # scheduler cannot drop the record half-way
            return asyncio.shield(asyncio.to_thread(self.charge, entry, end))
        self.charge(entry, end)  # one fsynced line: quick enough for the event loop
        return None

    async def close(self) -> None:
        now = time.time()
        for worker in list(self.active):
            self.charge(self.active.pop(worker), now)

    def charge(self, entry: tuple[str, int, float, str | None], end: float) -> UsageRecord | None:
        """Record one departed worker: from sacct once per job when it answers, else its lifetime."""
        name, nthreads, start, job_id = entry
        if job_id and self.sacct:
            if job_id in self.charged_jobs:
                return None
            found = sacct_usage(self.sacct, job_id, end)
            if found is not None:
                self.charged_jobs.add(job_id)
                cores, s, e = found
                return self._append(job_id, cores, s, e, "sacct")
            self.sacct = None  # accounting is off on this cluster; stop asking
        return self._append(job_id or name, nthreads, start, end, "worker-lifetime")

    def _append(self, ref: str, cores: int, start: float, end: float, source: Any) -> UsageRecord:
        rec = UsageRecord.from_times(
            allocation=self.allocation,
            user=self.user,
            kind="cluster",
            ref=ref,
            cores=cores,
            start=start,
            end=max(end, start),
            source=source,
        )
        self.ledger.record(rec)
        self.records.append(rec)
        return rec
