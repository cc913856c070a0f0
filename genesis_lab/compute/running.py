"""Core-hours that running batch jobs have accrued so far, from the scheduler's queue (``squeue``).

The site ledger charges a job when it ends; this tells what the running jobs of each allocation's
account have used until now (cores x elapsed), per allocation and user as the accounting sync will
charge them, for the usage report. Only shown, never used to refuse work.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from genesis_lab.access.unix import hub_user
from genesis_lab.compute.commands import run_command
from genesis_lab.compute.jobnames import allocation_for
from genesis_lab.errors import GenesisError, SchedulerError

if TYPE_CHECKING:
    from genesis_lab.compute.allocations import Allocation

__all__ = [
    "QUEUE_KEY",
    "QueuedJob",
    "RunningCharge",
    "RunningUsage",
    "parse_queue",
    "queue_command",
    "queued_jobs",
    "running_usage",
]

#: The ``schedulers.yaml`` key of the command listing running jobs of accounts (null: none).
QUEUE_KEY = "running_jobs_of_accounts"
#: A queue answer is reused this long: reports asked for at once (a page's several reads, the
#: service's threads) share one; longer would hide a job that has just started.
CACHE_SECONDS = 2.0
#: A failure is kept longer: the hub's form waits for the command, up to TIMEOUT_SECONDS.
FAILURE_CACHE_SECONDS = 60.0
TIMEOUT_SECONDS = 5.0

_cache: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[float, list[QueuedJob] | str]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class QueuedJob:
    """One running job as the queue lists it: ``cores`` since ``start`` (epoch seconds)."""

    job_id: str
    cores: int
    start: float
    user: str
    account: str
    partition: str
    name: str
    comment: str = ""

    def core_hours(self, now: float) -> float:
        """Core-hours accrued by ``now``.

        >>> QueuedJob("7", 4, 0.0, "ann", "p1", "debug", "x").core_hours(1800)
        2.0
        """
        return self.cores * max(0.0, now - self.start) / 3600.0


def parse_queue(out: str) -> list[QueuedJob]:
    r"""Running jobs from ``squeue --format %i|%C|%S|%u|%a|%P|%j|%k`` lines (the comment last,
    as it may hold the separator); lines without a start time or cores are left out.

    >>> [(j.job_id, j.cores, j.user, j.comment) for j in parse_queue(
    ...     "7|2|2026-01-01T00:00:00|ann|p1|debug|gl-hpc-0a1b2c3d|a|b\n"
    ...     "8|1|N/A|ann|p1|debug|dask-worker|")]
    [('7', 2, 'ann', 'a|b')]
    """
    jobs = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 7:
            continue
        job_id, cores, start, user, account, partition, name = parts[:7]
        if not job_id.strip() or not cores.isdigit():
            continue
        try:
            started = dt.datetime.fromisoformat(start).timestamp()
        except ValueError:
            continue  # not started: nothing used yet
        jobs.append(QueuedJob(job_id.strip(), int(cores), started, user, account, partition,
                              name, "|".join(parts[7:])))  # fmt: skip
    return jobs


def queue_command(scheduler: str) -> list[str] | None:
    """``scheduler``'s command listing running jobs of accounts (``schedulers.yaml``
    :data:`QUEUE_KEY`, ``{accounts}`` to fill in); None when it has none.

    >>> queue_command("slurm")[0], queue_command("pbs"), queue_command("local")
    ('squeue', None, None)
    """
    from genesis_lab.compute.schedulers import scheduler_config

    try:
        command = scheduler_config(scheduler).get(QUEUE_KEY)
    except GenesisError:
        return None
    return list(command) if command else None


def queued_jobs(command: list[str], accounts: Iterable[str]) -> list[QueuedJob]:
    """The running jobs of ``accounts`` (every user's), from ``command`` (:func:`queue_command`);
    an answer is reused for :data:`CACHE_SECONDS` (a failure for :data:`FAILURE_CACHE_SECONDS`).
    Raises :class:`SchedulerError` when the command fails.

    >>> queued_jobs(["true", "{accounts}"], ["p1"])
    []
    """
    accounts = tuple(sorted(set(accounts)))
    argv = [a.replace("{accounts}", ",".join(accounts)) for a in command]
    key = (tuple([shutil.which(argv[0]) or argv[0], *argv[1:]]), accounts)
    with _cache_lock:
        kept = _cache.get(key)
    failed = kept is not None and isinstance(kept[1], str)
    age = FAILURE_CACHE_SECONDS if failed else CACHE_SECONDS
    if kept is not None and time.monotonic() - kept[0] < age:
        if isinstance(kept[1], str):
            raise SchedulerError(kept[1], command=argv)
        return kept[1]
    try:
        jobs: list[QueuedJob] | str = parse_queue(run_command(argv, timeout=TIMEOUT_SECONDS).stdout)
    except SchedulerError as exc:
        jobs = str(exc)
    with _cache_lock:
        _cache[key] = (time.monotonic(), jobs)
    if isinstance(jobs, str):
        raise SchedulerError(jobs, command=argv)
    return jobs


@dataclass(frozen=True)
class RunningCharge:
    """What one running job has accrued, attributed to an allocation and a hub user."""

    allocation: str
    user: str
    job_id: str
    core_hours: float


@dataclass
class RunningUsage:
    """Running jobs' accrued core-hours as of ``as_of`` (epoch seconds); ``covered`` holds the
    allocations that have a figure, ``notes`` says why the others have none."""

    as_of: float
    charges: list[RunningCharge] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def core_hours(self, allocation: str, user: str | None = None) -> float | None:
        """Accrued core-hours of ``allocation`` (of ``user``'s jobs if given); None: no figure.

        >>> RunningUsage(0.0, [RunningCharge("a", "u", "7", 0.5)], {"a"}).core_hours("a")
        0.5
        >>> RunningUsage(0.0).core_hours("a") is None
        True
        """
        if allocation not in self.covered:
            return None
        return round(sum(c.core_hours for c in self.charges
                         if c.allocation == allocation and user in (None, c.user)), 6)  # fmt: skip


def running_usage(
    shown: Iterable[Allocation],
    site: Collection[Allocation],
    *,
    charged: Collection[tuple[str, str]] = (),
    now: float | None = None,
) -> RunningUsage:
    """What the running jobs of the ``shown`` allocations' accounts have accrued, each job
    attributed among all the ``site``'s allocations (as the accounting sync will charge it) and
    left out when the ledger already holds a charge of it (``charged``: (allocation, ref) pairs).

    One queue command per scheduler, for the shown allocations' accounts only. A scheduler
    without a queue command (PBS, LSF here) or a failing one gives those allocations no figure
    and a note; local allocations (no batch jobs) get neither.

    >>> from genesis_lab.compute.allocations import Allocation
    >>> pbs = Allocation(id="p", scheduler="pbs", account="a1")
    >>> usage = running_usage([pbs], [pbs])
    >>> usage.core_hours("p") is None, usage.notes[0].startswith("allocation 'p'")
    (True, True)
    """
    as_of = float(int(time.time() if now is None else now))
    usage = RunningUsage(as_of)
    by_command: dict[tuple[str, ...], list[Allocation]] = {}
    for a in shown:
        if a.scheduler == "local" or not a.account:
            continue
        command = queue_command(a.scheduler)
        if command is None:
            usage.notes.append(f"allocation {a.id!r}: {a.scheduler} has no queue-usage command "
                               "here, so its running jobs show only once charged.")  # fmt: skip
            continue
        by_command.setdefault(tuple(command), []).append(a)
    done = {(alloc, str(ref)) for alloc, ref in charged}
    for command, allocs in by_command.items():
        try:
            jobs = queued_jobs(list(command), {str(a.account) for a in allocs})
        except SchedulerError as exc:
            ids = ", ".join(repr(a.id) for a in allocs)
            which = "allocations" if len(allocs) > 1 else "allocation"
            usage.notes.append(f"{which} {ids}: running jobs not shown ({exc})")
            continue
        usage.covered.update(a.id for a in allocs)
        for job in jobs:
            user = hub_user(job.user)
            chosen = allocation_for(job, user, site)
            alloc = chosen.id if chosen else None
            if alloc is None or (alloc, job.job_id) in done:
                continue
            usage.charges.append(RunningCharge(alloc, user, job.job_id, job.core_hours(as_of)))
    return usage
