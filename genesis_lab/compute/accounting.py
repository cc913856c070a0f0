"""What a batch job used, from the scheduler's accounting (``sacct`` on SLURM with slurmdbd).

The hub (session jobs), the scheduler (scheduled runs), ``alloc charge`` (submitted runs) and the
dask usage plugin (worker jobs) charge the site ledger from here when accounting answers, and
from their own record of the job's lifetime when it does not.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from genesis_lab.compute.commands import run_command
from genesis_lab.errors import GenesisError, SchedulerError

__all__ = ["EndedJob", "accounted_usage", "ended_jobs", "sacct_command", "sacct_usage"]

ENDED_FIELDS = "JobID,JobName,User,Account,Partition,AllocCPUS,Start,End,ElapsedRaw,State,Comment"

# states in which accounting does not know the job's end yet
NOT_ENDED = frozenset({"PENDING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"})
NEVER_RAN = "never-ran"


def _parse(out: str, now: float | None) -> tuple[int, float, float, bool] | str | None:
    """(cores, start, end, ended) from ``AllocCPUS|Start|End|ElapsedRaw[|State]`` lines;
    ``NEVER_RAN`` for a job that ended without starting (cancelled while pending); None when
    the job is not (yet) there, has not started, or its record lacks the CPUs it was given
    (slurmdbd can have a job's end before its allocation: such a record is not final yet)."""
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 4 or not parts[0].isdigit() or not parts[3].isdigit():
            continue
        cores, start_text, elapsed = int(parts[0]), parts[1], int(parts[3])
        state = parts[4].split()[0] if len(parts) > 4 and parts[4].strip() else ""
        ended = state not in NOT_ENDED
        try:
            start = dt.datetime.fromisoformat(start_text).timestamp()
        except ValueError:
            return NEVER_RAN if ended and state else None
        if cores == 0:
            return None
        return cores, start, start + elapsed if elapsed else (now or time.time()), ended
    return None


def sacct_usage(
    command: list[str],
    job_id: str,
    now: float | None = None,
    *,
    settle: float = 0.0,
    strict: bool = False,
) -> tuple[int, float, float] | None:
    """(cores, start, end) of a job from ``sacct``; None when accounting cannot answer.

    ``command`` holds ``{job_id}`` and prints ``AllocCPUS|Start|End|ElapsedRaw|State``. A job
    charged as it ends is still running in accounting for a moment: with ``settle`` (seconds)
    this waits up to that long for its end to be recorded; a job still running then counts
    from its start until now. With ``strict``, a command that fails (no accounting on this
    cluster) raises :class:`~genesis_lab.errors.SchedulerError` instead of returning None, which
    then only means accounting has no final record of the job yet.

    >>> sacct_usage(["false", "{job_id}"], "1") is None
    True
    >>> sacct_usage(["printf", "2|2026-01-01T00:00:00|2026-01-01T00:30:00|1800|COMPLETED"], "1")[0]
    2
    """
    deadline = time.monotonic() + settle
    while True:
        try:
            out = run_command([a.replace("{job_id}", job_id) for a in command], timeout=10).stdout
        except SchedulerError:
            if strict:
                raise
            return None
        found = _parse(out, now)
        if found == NEVER_RAN:
            return None  # nothing used: the caller's own record says so too
        if isinstance(found, tuple) and (found[3] or time.monotonic() >= deadline):
            return found[:3]
        if found is None and time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


def accounted_usage(
    job_id: str, scheduler: str = "slurm", *, settle: float = 0.0
) -> tuple[int, float, float] | None:
    """(cores, start, end) of batch job ``job_id`` from ``scheduler``'s accounting (the
    ``sacct`` command of ``schedulers.yaml``); None when it has none or cannot answer.

    >>> accounted_usage("not-a-job-id") is None
    True
    """
    from genesis_lab.compute.schedulers import scheduler_config

    if not str(job_id).isdigit():
        return None
    try:
        command = scheduler_config(scheduler).get("sacct")
    except GenesisError:
        return None
    return sacct_usage(command, str(job_id), settle=settle) if command else None


def job_owner(job_id: str, scheduler: str = "slurm") -> tuple[str, str] | None:
    """(Unix user, account) of batch job ``job_id`` from ``scheduler``'s accounting; None when
    it has no accounting or does not know the job.

    >>> job_owner("not-a-job-id") is None
    True
    """
    command = sacct_command(scheduler)
    if not command or not str(job_id).isdigit():
        return None
    argv = [command[0], "--noheader", "--parsable2", "--allocations", "--allusers",
            "--jobs", str(job_id), "--format", "User,Account"]  # fmt: skip
    try:
        out = run_command(argv, timeout=10).stdout
    except SchedulerError:
        return None
    for line in out.splitlines():
        user, _, account = line.strip().partition("|")
        if user:
            return user, account
    return None


def sacct_command(scheduler: str = "slurm") -> list[str] | None:
    """The ``sacct`` command of ``scheduler`` in ``schedulers.yaml``; None without accounting.

    >>> sacct_command("slurm")[0]
    'sacct'
    >>> sacct_command("local") is None
    True
    """
    from genesis_lab.compute.schedulers import scheduler_config

    try:
        command = scheduler_config(scheduler).get("sacct")
    except GenesisError:
        return None
    return list(command) if command else None


@dataclass(frozen=True)
class EndedJob:
    """One ended job that ran, as accounting has it: ``cores`` from ``start`` for ``elapsed`` s."""

    job_id: str
    name: str
    user: str
    account: str
    partition: str
    cores: int
    start: float
    elapsed: int
    state: str
    comment: str = ""

    @property
    def end(self) -> float:
        return self.start + self.elapsed


def parse_ended(out: str) -> list[EndedJob]:
    r"""The ended jobs that ran in ``sacct --parsable2`` lines of :data:`ENDED_FIELDS`; job steps,
    jobs still running and jobs that never started are left out.

    >>> [(j.job_id, j.cores, j.elapsed) for j in parse_ended(
    ...     "7|dask-worker|ann|p1|debug|2|2026-01-01T00:00:00|2026-01-01T00:00:30|30|COMPLETED\n"
    ...     "8|dask-worker|ann|p1|debug|1|Unknown|Unknown|0|CANCELLED by 0")]
    [('7', 2, 30)]
    """
    jobs = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 10:
            continue
        job_id, name, user, account, partition, cores, start, _, elapsed, state = parts[:10]
        comment = "|".join(parts[10:])  # last: a comment may hold the separator
        state = state.split()[0] if state.strip() else ""
        if not job_id.isdigit() or not cores.isdigit() or not elapsed.isdigit():
            continue
        if not state or state in NOT_ENDED or int(cores) == 0:
            continue  # still running, or the CPUs it ran on not recorded yet (a later pass)
        try:
            started = dt.datetime.fromisoformat(start).timestamp()
        except ValueError:
            continue  # ended without starting: nothing used
        jobs.append(EndedJob(job_id, name, user, account, partition, int(cores), started,
                             int(elapsed), state, comment))  # fmt: skip
    return jobs


def ended_jobs(command: list[str], account: str, since: float, until: float) -> list[EndedJob]:
    """Jobs of SLURM ``account`` (every user's) that ended between ``since`` and ``until``
    (epoch seconds), from ``sacct`` (``command``: at least the sacct binary, as in
    ``schedulers.yaml``; its own arguments are replaced). Raises :class:`SchedulerError` when
    ``sacct`` fails.

    >>> ended_jobs(["true"], "p1", 0, 1)
    []
    """

    def stamp(t: float) -> str:
        return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%S")

    argv = [command[0], "--noheader", "--parsable2", "--allocations", "--allusers",
            "--accounts", account, "--starttime", stamp(since), "--endtime", stamp(until),
            "--format", ENDED_FIELDS]  # fmt: skip
    return parse_ended(run_command(argv, timeout=30).stdout)
