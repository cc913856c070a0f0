"""What a batch job used, from the scheduler's accounting (``sacct`` on SLURM with slurmdbd).

The hub (session jobs), the scheduler (scheduled runs), ``alloc charge`` (submitted runs) and the
dask usage plugin (worker jobs) charge the site ledger from here when accounting answers, and
from their own record of the job's lifetime when it does not.
"""

from __future__ import annotations

import datetime as dt
import time

from genesis_lab.compute.commands import run_command
from genesis_lab.errors import GenesisError, SchedulerError

__all__ = ["accounted_usage", "sacct_usage"]

# states in which accounting does not know the job's end yet
NOT_ENDED = frozenset({"PENDING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"})
NEVER_RAN = "never-ran"


def _parse(out: str, now: float | None) -> tuple[int, float, float, bool] | str | None:
    """(cores, start, end, ended) from ``AllocCPUS|Start|End|ElapsedRaw[|State]`` lines;
    ``NEVER_RAN`` for a job that ended without starting (cancelled while pending); None when
    the job is not (yet) there or has not started."""
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
        return cores, start, start + elapsed if elapsed else (now or time.time()), ended
    return None


def sacct_usage(
    command: list[str], job_id: str, now: float | None = None, *, settle: float = 0.0
) -> tuple[int, float, float] | None:
    """(cores, start, end) of a job from ``sacct``; None when accounting cannot answer.

    ``command`` holds ``{job_id}`` and prints ``AllocCPUS|Start|End|ElapsedRaw|State``. A job
    charged as it ends is still running in accounting for a moment: with ``settle`` (seconds)
    this waits up to that long for its end to be recorded; a job still running then counts
    from its start until now.

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
