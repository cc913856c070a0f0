"""Charges the site's usage ledger for the workers of a cluster, from inside its dask scheduler.

``sacct`` is asked first (scheduler accounting); without it, worker lifetimes are recorded. Inside
a hub session the records go to the genesis service (:func:`genesis_lab.compute.ledger.charge`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

from genesis_lab.compute.accounting import sacct_usage
from genesis_lab.compute.ledger import Ledger, UsageRecord
from genesis_lab.errors import GenesisError, SchedulerError

logger = logging.getLogger(__name__)

__all__ = ["UsagePlugin", "sacct_usage"]

# seconds a departed worker's charge waits for accounting to record its job's end
SETTLE = 15.0
# the same when the scheduler closes: its jobs are being cancelled, and a session being stopped
# has a few seconds before its kernel is killed (the service's accounting sync charges the rest)
CLOSE_SETTLE = 3.0


class UsagePlugin(SchedulerPlugin):
    """Charges one ledger record per worker (or per job, with ``sacct``) when it leaves.

    Workers still there when the scheduler closes (their jobs cancelled at a session's end) are
    charged in :meth:`close`, which also waits for charges still on their way. ``charge_record``
    defaults to ``ledger.record`` when a ledger is given, else to the site ledger's
    :func:`~genesis_lab.compute.ledger.charge`.
    """

    name = "genesis-usage"

    def __init__(
        self,
        *,
        allocation: str,
        user: str,
        ledger: Ledger | None = None,
        charge_record: Callable[[UsageRecord], Any] | None = None,
        sacct: list[str] | None = None,
        job_id_of: Callable[[str], str | None] | None = None,
        running_jobs: Callable[[], list[tuple[str, int, float]]] | None = None,
    ):
        if charge_record is None:
            if ledger is not None:
                charge_record = ledger.record
            else:
                from genesis_lab.compute.ledger import charge

                charge_record = charge
        self.charge_record = charge_record
        self.allocation = allocation
        self.user = user
        self.sacct = sacct
        self.job_id_of = job_id_of or (lambda name: None)
        self.active: dict[str, tuple[str, int, float, str | None]] = {}
        self.charged_jobs: set[str] = set()
        self.records: list[UsageRecord] = []
        self.pending: set[asyncio.Future[Any]] = set()
        self.running_jobs = running_jobs
        self.job_starts: dict[str, tuple[int, float]] = {}

    def add_worker(self, scheduler: Any, worker: str) -> None:
        ws = scheduler.workers.get(worker)
        if ws is None:
            return
        name = str(ws.name)
        job_id = self.job_id_of(name)
        self.active[worker] = (name, int(ws.nthreads), time.time(), job_id)
        if job_id and self.running_jobs and job_id not in self.job_starts:
            self._track(asyncio.ensure_future(asyncio.to_thread(self._note_job_starts)))

    def _note_job_starts(self) -> None:
        """Cores and start of the cluster's running jobs, from the scheduler's queue."""
        assert self.running_jobs is not None
        try:
            for job_id, cores, start in self.running_jobs():
                self.job_starts.setdefault(job_id, (cores, start))
        except GenesisError as exc:
            logger.warning("genesis usage: job starts unknown, charging worker lifetimes: %s", exc)

    def _track(self, task: asyncio.Future[Any]) -> asyncio.Future[Any]:
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return task

    def _charge_later(
        self, entry: tuple[str, int, float, str | None], end: float, settle: float = 0.0
    ) -> Any:
        # sacct and the service are I/O: off the event loop, shielded so a closing scheduler
        # cannot drop the record half-way
        return asyncio.shield(self._track(asyncio.ensure_future(
            asyncio.to_thread(self.charge, entry, end, settle))))  # fmt: skip

    def remove_worker(self, scheduler: Any, worker: str, *, stimulus_id: str, **kw: Any) -> Any:
        entry = self.active.pop(worker, None)
        if entry is None:
            return None
        return self._charge_later(entry, time.time(), SETTLE)

    async def close(self) -> None:
        now = time.time()
        for worker in list(self.active):
            self._charge_later(self.active.pop(worker), now, CLOSE_SETTLE)
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=60)

    def charge(
        self, entry: tuple[str, int, float, str | None], end: float, settle: float = 0.0
    ) -> UsageRecord | None:
        """Record one departed worker, once per job: from sacct when it answers (waiting up to
        ``settle`` seconds for the job's end), else from the job's cores and start in the queue
        until now; without a job, the worker's lifetime."""
        name, nthreads, start, job_id = entry
        if job_id and job_id in self.charged_jobs:
            return None
        if job_id and self.sacct:
            try:
                found = sacct_usage(self.sacct, job_id, end, settle=settle, strict=True)
            except SchedulerError:
                found, self.sacct = None, None  # accounting is off on this cluster; stop asking
            if found is not None:
                self.charged_jobs.add(job_id)
                cores, s, e = found
                return self._append(job_id, cores, s, e, "sacct")
        if job_id and job_id in self.job_starts:
            self.charged_jobs.add(job_id)
            cores, job_start = self.job_starts[job_id]
            return self._append(job_id, cores, min(job_start, end), end, "job-lifetime")
        return self._append(job_id or name, nthreads, start, end, "worker-lifetime")

    def _append(
        self, ref: str, cores: int, start: float, end: float, source: Any
    ) -> UsageRecord | None:
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
        try:
            rec = self.charge_record(rec)
        except GenesisError as exc:
            logger.error("genesis usage: %s core-hours of %s not charged: %s",
                         rec.core_hours, ref, exc)  # fmt: skip
            return None
        self.records.append(rec)
        return rec
