"""The scheduler: fires due schedules as processes or batch jobs independent of any session.

Policy. Each schedule remembers the last cron slot it claimed. On every tick the latest slot in
``(last claimed, now]`` is due; missed slots (scheduler down) are coalesced into that one run.
A slot is claimed in a journal (``<state_dir>/schedule-runs/<schedule>/<slot>.json``, created
exclusively) before anything is launched, and the launched ``genesis-lab schedule fire`` claims
``<slot>.started`` exclusively before running: a restart relaunches claimed slots that never
launched, and no slot ever runs twice.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import pwd
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genesis_lab.errors import GenesisError, RunFailedError
from genesis_lab.pipelines.schedules import Schedule, ScheduleBook
from genesis_lab.pipelines.store import write_json_atomic
from genesis_lab.settings import Settings, get_settings

__all__ = ["Scheduler", "due_slot", "fire", "owner_prefix"]

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(slot: dt.datetime) -> str:
    return slot.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def due_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The latest cron slot after the last claimed one (or creation) and not after ``now``.

    >>> s = Schedule(id="a", challenge="c", cron="0 2 * * *", owner="u",
    ...              created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    >>> due_slot(s, dt.datetime(2026, 1, 3, 5, tzinfo=dt.UTC)).isoformat()
    '2026-01-03T02:00:00+00:00'
    """
    from croniter import croniter

    base = schedule.last_fired or schedule.created
    it = croniter(schedule.cron, base)
    slot = it.get_next(dt.datetime)
    if slot > now:
        return None
    while True:
        following = it.get_next(dt.datetime)
        if following > now:
            return slot
        slot = following


def owner_prefix(owner: str) -> list[str]:
    """``runuser -u OWNER --`` when running as root for another real Unix user; else nothing."""
    if os.geteuid() != 0 or owner == getpass.getuser():
        return []
    try:
        pwd.getpwnam(owner)
    except KeyError:
        return []  # not a Unix account (hub-only user): run as this user, the owner is recorded
    return ["runuser", "-u", owner, "--"]


class Journal:
    """Per-slot records of fired schedules."""

    def __init__(self, settings: Settings):
        self.root = Path(settings.state_dir) / "schedule-runs"

    def path(self, schedule_id: str, slot: dt.datetime) -> Path:
        return self.root / schedule_id / f"{_stamp(slot)}.json"

    def claim(self, schedule: Schedule, slot: dt.datetime) -> dict[str, Any] | None:
        """Create the slot's record exclusively; ``None`` if it was already claimed."""
        path = self.path(schedule.id, slot)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "schedule": schedule.id,
            "challenge": schedule.challenge,
            "slot": slot.isoformat(),
            "owner": schedule.owner,
            "allocation": schedule.allocation,
            "status": "claimed",
            "claimed_at": _utcnow().isoformat(),
        }
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "w") as fh:
            json.dump(entry, fh, indent=2)
        return entry

    def update(self, schedule_id: str, slot: dt.datetime, **changes: Any) -> dict[str, Any]:
        path = self.path(schedule_id, slot)
        entry = json.loads(path.read_text()) | changes
        write_json_atomic(path, entry)
        return entry

    def entries(self, schedule_id: str | None = None) -> list[dict[str, Any]]:
        """Every journal record (of one schedule), oldest slot first."""
        folders = [self.root / schedule_id] if schedule_id else sorted(self.root.glob("*"))
        out = []
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                try:
                    out.append(json.loads(path.read_text()))
                except (OSError, ValueError):
                    continue
        return out


class Scheduler:
    """Fire due schedules. ``clock`` is injectable; ``serve`` loops until stopped.

    >>> from genesis_lab.pipelines.scheduler import Scheduler
    >>> Scheduler().tick()  # doctest: +SKIP
    []
    """

    def __init__(self, settings: Settings | None = None, *, clock: Clock = _utcnow):
        self.settings = settings or get_settings()
        self.clock = clock
        self.book = ScheduleBook(self.settings)
        self.journal = Journal(self.settings)
        self.children: list[subprocess.Popen[bytes]] = []

    def tick(self) -> list[dict[str, Any]]:
        """Claim every due slot, then launch each claimed run; returns the launched records."""
        now = self.clock()
        claimed: list[tuple[Schedule, dt.datetime]] = []
        with self.book.edit() as schedules:
            for schedule in schedules.values():
                slot = due_slot(schedule, now)
                if slot is None:
                    continue
                if self.journal.claim(schedule, slot) is not None:
                    claimed.append((schedule, slot))
                schedule.last_fired = slot
        self.reap()
        return [self.launch(s, slot) for s, slot in claimed]

    def recover(self) -> list[dict[str, Any]]:
        """Launch slots claimed before a crash but never launched."""
        schedules = {s.id: s for s in self.book.list()}
        out = []
        for entry in self.journal.entries():
            if entry["status"] == "claimed" and entry["schedule"] in schedules:
                slot = dt.datetime.fromisoformat(entry["slot"])
                out.append(self.launch(schedules[entry["schedule"]], slot))
        return out

    def launch(self, schedule: Schedule, slot: dt.datetime) -> dict[str, Any]:
        """Start ``genesis-lab schedule fire`` for the slot, as a process or a SLURM job."""
        from genesis_lab.pipelines.batch import genesis_command

        command = [*genesis_command(), "schedule", "fire", schedule.id, slot.isoformat()]
        prefix = owner_prefix(schedule.owner)
        log = self.journal.path(schedule.id, slot).with_suffix(".log")
        alloc = None
        if schedule.allocation:
            from genesis_lab.compute.allocations import get_allocation

            alloc = get_allocation(schedule.allocation)
        try:
            if alloc is not None and alloc.scheduler == "slurm":
                from genesis_lab.pipelines.batch import batch_script, sbatch

                script = batch_script(
                    command,
                    allocation=alloc,
                    job_name=f"genesis-schedule-{schedule.id}",
                    log_file=log,
                    env={"GENESIS_USER": schedule.owner},
                )
                job = sbatch(script, log.parent, log.stem, as_user=prefix)
                return self.journal.update(schedule.id, slot, status="launched", job_id=job)
            # A child in its own session: culling a notebook session (or stopping this
            # scheduler) does not stop a run that has started.
            env = dict(os.environ) | {"GENESIS_USER": schedule.owner}
            if schedule.allocation:
                env["GENESIS_ALLOCATION"] = schedule.allocation
            with open(log, "ab") as out:
                proc = subprocess.Popen(
                    [*prefix, *command],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            self.children.append(proc)
            return self.journal.update(schedule.id, slot, status="launched", pid=proc.pid)
        except (OSError, GenesisError) as exc:
            return self.journal.update(
                schedule.id, slot, status="failed", error=f"launch failed: {exc}"
            )

    def reap(self) -> None:
        """Collect finished child processes."""
        self.children = [p for p in self.children if p.poll() is None]

    def wait(self, timeout: float = 120) -> None:
        """Wait for launched local children (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        for proc in self.children:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.reap()

    def serve(self, interval: float = 30.0, stop: threading.Event | None = None) -> None:
        """Recover, then tick every ``interval`` seconds until ``stop`` is set."""
        stop = stop or threading.Event()
        self.recover()
        while not stop.is_set():
            self.tick()
            stop.wait(interval)


def fire(schedule_id: str, slot_text: str, settings: Settings | None = None) -> dict[str, Any]:
    """Run one claimed slot (the body of ``genesis-lab schedule fire``); returns its record.

    Claims ``<slot>.started`` exclusively, runs the challenge, records the outcome in the journal
    and notifies the owner on failure.
    """
    from genesis_lab.pipelines.notify import notify_owner
    from genesis_lab.pipelines.runner import run

    settings = settings or get_settings()
    journal = Journal(settings)
    slot = dt.datetime.fromisoformat(slot_text)
    schedule = ScheduleBook(settings).get(schedule_id)
    marker = journal.path(schedule_id, slot).with_suffix(".started")
    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return {"schedule": schedule_id, "slot": slot.isoformat(), "status": "already-started"}
    journal.update(schedule_id, slot, status="running", started_at=_utcnow().isoformat())
    try:
        result = run(
            schedule.challenge,
            schedule.parameters,
            force=True,
            cluster=schedule.allocation is not None,
            allocation=schedule.allocation,
            settings=settings,
        )
    except RunFailedError as exc:
        entry = journal.update(
            schedule_id,
            slot,
            status="failed",
            run_id=exc.run_id,
            error={"cell": exc.cell, "ename": exc.ename, "evalue": exc.evalue},
            ended_at=_utcnow().isoformat(),
        )
    except GenesisError as exc:
        entry = journal.update(
            schedule_id, slot, status="failed", error={"ename": type(exc).__name__,
            "evalue": str(exc)}, ended_at=_utcnow().isoformat()
        )  # fmt: skip
    else:
        return journal.update(
            schedule_id,
            slot,
            status="completed",
            run_id=result.run_id,
            metrics=result.metrics,
            ended_at=_utcnow().isoformat(),
        )
    try:
        sent = notify_owner(
            schedule.owner,
            f"[genesis-lab] scheduled run of {schedule.challenge} failed",
            entry,
            target=schedule.notify,
            settings=settings,
        )
    except GenesisError as exc:  # the run is recorded; a notice that cannot be sent is noted
        return journal.update(schedule_id, slot, notified=[], notify_error=str(exc))
    return journal.update(schedule_id, slot, notified=sent)
