"""A tiny process that cancels a cluster's batch jobs when the process that owns it dies.

Started by :func:`genesis_lab.compute.cluster`; survives a SIGKILLed kernel, so no job is orphaned.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.compute.commands import run_command, same_process
from genesis_lab.compute.schedulers import list_jobs_command, scheduler_config
from genesis_lab.errors import GenesisError, SchedulerError

if TYPE_CHECKING:
    from genesis_lab.settings import Settings

__all__ = ["cancel_jobs_named", "charge", "main", "running_jobs"]


class _Stop(Exception):
    """Raised by the signal handler to end the polling sleep."""


# how long cancelled jobs may take, all together, to have their end in accounting (slurmd kills
# them, slurmctld tells slurmdbd): seconds, well inside the 30 s a closing cluster waits for us
SETTLE_SECONDS = 15.0


def cancel_jobs_named(scheduler: str, job_name: str) -> list[str]:
    """Cancel every job of the scheduler called ``job_name``; returns their ids.

    >>> cancel_jobs_named("slurm", "no-such-job-name")  # doctest: +SKIP
    []
    """
    out = run_command(list_jobs_command(scheduler, job_name), timeout=30).stdout
    ids = [line.split()[0] for line in out.splitlines() if line.strip()]
    if ids:
        run_command([*scheduler_config(scheduler)["cancel_jobs"], *ids], timeout=30, check=False)
    return ids


def running_jobs(scheduler: str, job_name: str) -> list[tuple[str, int, float]]:
    """(id, cores, start epoch) of the running jobs called ``job_name`` (empty if unsupported)."""
    import datetime as dt

    command = scheduler_config(scheduler).get("running_jobs_usage")
    if not command:
        return []
    out = run_command([a.replace("{name}", job_name) for a in command], timeout=30).stdout
    jobs = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3 and parts[1].isdigit():
            try:
                start = dt.datetime.fromisoformat(parts[2]).timestamp()
            except ValueError:
                continue
            jobs.append((parts[0], int(parts[1]), start))
    return jobs


def charge(
    allocation: str,
    user: str,
    jobs: list[tuple[str, int, float]],
    *,
    ledger_path: str | None = None,
    settings: Settings | None = None,
    scheduler: str | None = None,
) -> list[str]:
    """Charge cancelled jobs from ``scheduler``'s accounting (``sacct``) where it answers, else
    from their start until now (``job-lifetime``) through
    :func:`genesis_lab.compute.ledger.charge`: inside a hub session the genesis service takes
    them to the site ledger, elsewhere they go to ``ledger_path`` (default: the site's ledger).
    Returns why each job that could not be charged was not.

    >>> charge("a", "u", [])
    []
    """
    from genesis_lab.compute.accounting import accounted_usage
    from genesis_lab.compute.ledger import Ledger, UsageRecord
    from genesis_lab.compute.ledger import charge as charge_record

    ledger = Ledger(Path(ledger_path)) if ledger_path else None
    now = time.time()
    settled_by = time.monotonic() + SETTLE_SECONDS  # one wait for all: the jobs end together
    failed = []
    for job_id, cores, start in jobs:
        settle = max(0.0, settled_by - time.monotonic())
        found = accounted_usage(job_id, scheduler, settle=settle) if scheduler else None
        cores, t0, t1 = found or (cores, min(start, now), now)
        rec = UsageRecord.from_times(allocation=allocation, user=user, kind="cluster", ref=job_id,
                                     cores=cores, start=t0, end=max(t0, t1),
                                     source="sacct" if found else "job-lifetime")  # fmt: skip
        try:
            charge_record(rec, settings, ledger=ledger)
        except GenesisError as exc:
            failed.append(f"{rec.core_hours} core-hours of job {job_id} not charged: {exc}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genesis_lab.compute.watchdog --pid P --started T --scheduler S --job-name N``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pid", type=int, required=True, help="process that owns the cluster")
    p.add_argument("--started", type=float, required=True, help="its create time (epoch s)")
    p.add_argument("--scheduler", required=True, help="slurm, pbs or lsf")
    p.add_argument("--job-name", required=True, help="job name shared by the cluster's jobs")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between checks")
    p.add_argument(
        "--allocation",
        default="",
        help="charge the jobs it cancels to this allocation (none: no charge)",
    )
    p.add_argument("--user", default="", help="whose jobs they are (in a session: the token's)")
    p.add_argument("--ledger", help="ledger file outside a hub session (default: the site's)")
    args = p.parse_args(argv)

    state = {"stop": False, "cancel": False, "polling": True, "ending": False}

    def on_signal(signum: int, frame: object) -> None:
        # a later SIGUSR2 never takes back a cancel asked for before it
        state["stop"] = True
        state["cancel"] = state["cancel"] or signum in (signal.SIGUSR1, signal.SIGTERM)
        state["ending"] = state["ending"] or signum == signal.SIGTERM
        if state["polling"]:
            state["polling"] = False  # a second signal must not raise outside the poll
            raise _Stop  # wake up from the poll's sleep at once

    # SIGUSR2: the cluster closed and cancelled its own jobs. SIGUSR1: cancel them now. SIGTERM
    # (the batch system ending the session's job, or a shutdown: the owner goes with us): cancel
    # them and charge them, as when the owner died
    signal.signal(signal.SIGUSR2, on_signal)
    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while not state["stop"] and same_process(args.pid, args.started):
            time.sleep(args.poll)
    except _Stop:
        pass
    state["polling"] = False
    if state["stop"] and not state["cancel"]:
        return 0
    unrecorded: list[tuple[str, int, float]] = []
    if args.allocation and (not state["stop"] or state["ending"]):
        # the owner died or is ending: its scheduler never sees these workers leave, so charge
        # them here
        try:
            unrecorded = running_jobs(args.scheduler, args.job_name)
        except SchedulerError as exc:
            print(f"genesis-lab watchdog: {exc}", file=sys.stderr)
    for attempt in range(3):
        try:
            ids = cancel_jobs_named(args.scheduler, args.job_name)
        except SchedulerError as exc:
            print(f"genesis-lab watchdog: {exc}", file=sys.stderr)
            time.sleep(1 + attempt)
            continue
        if not ids:
            break
        time.sleep(1)  # a job submitted at the instant of death shows up late
    failed = charge(args.allocation, args.user, unrecorded, ledger_path=args.ledger,
                    scheduler=args.scheduler)  # fmt: skip
    for reason in failed:
        print(f"genesis-lab watchdog: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
