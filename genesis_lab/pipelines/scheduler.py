"""The scheduler: fires due schedules as processes or batch jobs independent of any session.

Policy. Each schedule remembers the last cron slot it claimed. On every tick the latest slot in
``(last claimed, now]`` is due; missed slots (scheduler down) are coalesced into that one run.
A slot is claimed in a journal (``<state_dir>/schedule-runs/<schedule>/<slot>.json``, created
exclusively) before anything is launched, and the launched ``genesis-lab schedule fire`` claims
``<slot>.started`` exclusively before running: a restart relaunches claimed slots that never
launched, and no slot ever runs twice.

Owners. Run as root (the hub-managed scheduler), a run whose owner has a Unix account (the hub's
``jupyter-<name>``) runs as that account: ``runuser -u ACCOUNT --`` for a local process, or
``sbatch`` as the account under the allocation's SLURM account. It gets a clean environment (the
site's results store, site file and challenge and catalog paths; never the scheduler's token or
state folder), writes its log and outcome into a folder of the owner's home, and its run into the
site's results store. Each tick the scheduler reconciles launched runs: the outcome the run wrote,
else how its SLURM job ended (``sacct``, or the job record) or its process's exit code, with the
log's tail; failures notify the owner. With a hub account mapping, an owner without an account is
refused rather than run as root.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import pwd
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genesis_lab.access.unix import is_system_account, people_uids
from genesis_lab.compute.commands import pid_alive
from genesis_lab.errors import GenesisError, RunFailedError
from genesis_lab.pipelines.schedules import Schedule, ScheduleBook
from genesis_lab.pipelines.store import write_json_atomic
from genesis_lab.settings import Settings, get_settings

__all__ = ["Scheduler", "due_slot", "fire", "job_environment"]

Clock = Callable[[], dt.datetime]
AccountOf = Callable[[str], str]
"""Hub user name -> Unix account name (the hub's ``account_name``); identity by default."""

OPEN = ("launched", "running")
JOB_FOLDER = Path(".local/share/genesis-lab/scheduled")
"""Under the owner's home: the job's log and outcome, written as the owner."""
TAIL_BYTES = 2000


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


def job_environment(settings: Settings, owner: str, allocation: str | None) -> dict[str, str]:
    """The whole environment of a run started for ``owner`` as their own account: where the
    site's results, challenges and catalogs are, and nothing of the scheduler's own (its token,
    its state folder).

    >>> from genesis_lab.settings import Settings
    >>> env = job_environment(Settings(home="/tmp/gl"), "alice", None)
    >>> env["GENESIS_RESULTS_ROOT"], env["GENESIS_USER"], "GENESIS_STATE_DIR" in env
    ('/tmp/gl/results', 'alice', False)
    """
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SLURM_CONF")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        GENESIS_USER=owner,
        GENESIS_RESULTS_ROOT=str(settings.results_root),
        GENESIS_CHALLENGE_PATHS=os.pathsep.join(map(str, settings.challenge_paths)),
        GENESIS_CATALOG_PATHS=os.pathsep.join(map(str, settings.catalog_paths)),
    )
    if settings.site_file:
        env["GENESIS_SITE_FILE"] = str(settings.site_file)
    if allocation:
        env["GENESIS_ALLOCATION"] = allocation
    return env


def _read_owned(path: Path, uid: int, limit: int = 1 << 20) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of ``uid`` (never through a symlink)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            return None
        if st.st_size > limit:
            fh.seek(st.st_size - limit)
        return fh.read(limit)


def _tail(path: Path | None, uid: int) -> str:
    if path is None:
        return ""
    data = _read_owned(path, uid, TAIL_BYTES)
    return data.decode(errors="replace").strip() if data else ""


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

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = _utcnow,
        account_of: AccountOf | None = None,
    ):
        self.settings = settings or get_settings()
        self.clock = clock
        self.account_of = account_of
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
        self.reconcile()
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

    def account(self, owner: str) -> pwd.struct_passwd | None:
        """The Unix account a run of ``owner`` runs as, or ``None`` to run as this process.

        Raises :class:`GenesisError` when, as root with a hub account mapping, the owner has none.
        """
        if os.geteuid() != 0:
            return None
        name = self.account_of(owner) if self.account_of else owner
        if name == getpass.getuser() and self.account_of is None:
            return None
        try:
            found = pwd.getpwnam(name)
        except KeyError:
            if self.account_of is None:
                return None  # not a Unix account (hub-only user): the owner is recorded
            raise GenesisError(
                f"owner {owner!r} has no Unix account {name!r} (it is made at their first "
                "session); the run was not started"
            ) from None
        if self.account_of is not None and is_system_account(found.pw_uid):
            uids = people_uids()
            raise GenesisError(
                f"owner {owner!r} maps to the system account {name!r} (uid {found.pw_uid}); "
                f"scheduled runs run only as people's accounts (uids {uids.start} to "
                f"{uids.stop - 1}); the run was not started"
            )
        return found

    def _refusal(self, schedule: Schedule) -> str | None:
        """Why the schedule's allocation cannot take another run (its budget is spent), or None."""
        if not schedule.allocation:
            return None
        from genesis_lab.compute.ledger import require_budget

        try:
            require_budget(schedule.allocation, settings=self.settings)
        except GenesisError as exc:
            return str(exc)
        return None

    def _charge(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Charge a finished run that started to the site ledger (once): its batch job from
        accounting (``sacct``) where that answers, else one core for the run's lifetime."""
        start = entry.get("started_at")
        if not entry.get("allocation") or entry.get("charged") is not None or not start:
            return entry
        from genesis_lab.compute.accounting import accounted_usage
        from genesis_lab.compute.ledger import UsageRecord, charge

        slot = dt.datetime.fromisoformat(entry["slot"])
        ref = str(entry.get("job_id") or f"schedule:{entry['schedule']}:{_stamp(slot)}")
        cores, end, source = 1, entry.get("ended_at") or _utcnow().isoformat(), "job-lifetime"
        found = accounted_usage(str(entry["job_id"]), settle=5) if entry.get("job_id") else None
        if found is not None:
            (cores, start, end), source = found, "sacct"
        try:
            rec = charge(UsageRecord.from_times(
                allocation=entry["allocation"], user=entry["owner"], kind="pipeline", ref=ref,
                cores=cores, start=start, end=end, source=source), self.settings)  # fmt: skip
        except GenesisError as exc:
            return self.journal.update(entry["schedule"], slot, charged=0, charge_error=str(exc))
        return self.journal.update(entry["schedule"], slot, charged=rec.core_hours)

    def launch(self, schedule: Schedule, slot: dt.datetime) -> dict[str, Any]:
        """Start ``genesis-lab schedule fire`` for the slot, as a process or a SLURM job."""
        from genesis_lab.pipelines.batch import genesis_command

        refused = self._refusal(schedule)
        if refused:
            entry = self.journal.update(
                schedule.id, slot, status="failed", ended_at=_utcnow().isoformat(),
                error={"ename": "BudgetSpent", "evalue": f"refused: {refused}"},
            )  # fmt: skip
            return self._notify(schedule, slot, entry)
        command = [*genesis_command(), "schedule", "fire", schedule.id, slot.isoformat()]
        log = self.journal.path(schedule.id, slot).with_suffix(".log")
        alloc = None
        try:
            if schedule.allocation:
                from genesis_lab.compute.allocations import get_allocation

                alloc = get_allocation(schedule.allocation)
            account = self.account(schedule.owner)
            prefix: list[str] = []
            env = dict(os.environ) | {"GENESIS_USER": schedule.owner}
            if schedule.allocation:
                env["GENESIS_ALLOCATION"] = schedule.allocation
            extra: dict[str, Any] = {}
            cwd = None
            if account is not None:
                prefix = ["runuser", "-u", account.pw_name, "--"]
                folder = Path(account.pw_dir) / JOB_FOLDER / schedule.id
                from genesis_lab.compute.commands import run_command

                run_command([*prefix, "mkdir", "-p", str(folder)], timeout=30)
                outcome = folder / f"{_stamp(slot)}.json"
                spec = {"challenge": schedule.challenge, "parameters": schedule.parameters,
                        "allocation": schedule.allocation}  # fmt: skip
                command += ["--outcome", str(outcome), "--spec", json.dumps(spec)]
                env = job_environment(self.settings, schedule.owner, schedule.allocation)
                extra = {"account": account.pw_name, "outcome": str(outcome)}
                cwd = account.pw_dir
            if alloc is not None and alloc.scheduler == "slurm":
                from genesis_lab.pipelines.batch import batch_script

                if account is not None:
                    log = Path(extra["outcome"]).with_suffix(".log")
                script = batch_script(
                    command,
                    allocation=alloc,
                    job_name=f"genesis-schedule-{schedule.id}",
                    log_file=log,
                    env={k: v for k, v in env.items() if k.startswith("GENESIS_")},
                )
                job = _submit(script, prefix, env, cwd)
                return self.journal.update(schedule.id, slot, status="launched", job_id=job,
                                           log=str(log), **extra)  # fmt: skip
            # A child in its own session: culling a notebook session (or stopping this
            # scheduler) does not stop a run that has started. Its log is this scheduler's file,
            # written through the inherited descriptor.
            with open(log, "ab") as out:
                proc = subprocess.Popen(
                    [*prefix, *command],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                )
            self.children.append(proc)
            return self.journal.update(schedule.id, slot, status="launched", pid=proc.pid,
                                       log=str(log), **extra)  # fmt: skip
        except (OSError, GenesisError) as exc:
            entry = self.journal.update(
                schedule.id, slot, status="failed", error=f"launch failed: {exc}"
            )
            return self._notify(schedule, slot, entry)

    def reconcile(self) -> list[dict[str, Any]]:
        """Close launched runs that ended: their outcome, or the batch system's or the process's
        account of why they stopped; failures notify the owner. Returns the records closed."""
        finished = {p.pid: p.returncode for p in self.children if p.poll() is not None}
        self.reap()
        running = {p.pid for p in self.children}
        schedules = {s.id: s for s in self.book.list()}
        closed = []
        for entry in self.journal.entries():
            if entry.get("status") in ("completed", "failed"):
                self._charge(entry)
            if entry.get("status") not in OPEN:
                continue
            slot = dt.datetime.fromisoformat(entry["slot"])
            ended = self._ended(entry, finished, running)
            if ended is None:
                continue
            entry = self.journal.update(entry["schedule"], slot, **ended)
            if entry["status"] == "failed" and entry["schedule"] in schedules:
                entry = self._notify(schedules[entry["schedule"]], slot, entry)
            closed.append(self._charge(entry))
        return closed

    def _ended(
        self, entry: dict[str, Any], finished: dict[int, int | None], running: set[int]
    ) -> dict[str, Any] | None:
        uid = os.getuid()
        if entry.get("account"):
            try:
                uid = pwd.getpwnam(entry["account"]).pw_uid
            except KeyError:
                return {"status": "failed", "error": {"ename": "AccountGone",
                        "evalue": f"the account {entry['account']} no longer exists"}}  # fmt: skip
            data = _read_owned(Path(entry["outcome"]), uid)
            if data:
                try:
                    outcome = json.loads(data)
                except ValueError:
                    outcome = {}
                if outcome.get("status") in ("completed", "failed"):
                    keep = ("status", "run_id", "metrics", "error", "started_at", "ended_at")
                    return {k: outcome[k] for k in keep if k in outcome}
                if outcome.get("status") == "running" and entry["status"] == "launched":
                    return {"status": "running", "started_at": outcome.get("started_at")}
        log = Path(entry["log"]) if entry.get("log") else None
        if entry.get("job_id"):
            from genesis_lab.pipelines.batch import job_end

            end = job_end(str(entry["job_id"]))
            if end is None:
                return None
            if self._reread(entry) not in OPEN:
                return None  # the run recorded itself meanwhile
            why = f"SLURM job {entry['job_id']} ended {end['state']}"
            detail = ", ".join(f"{k} {end[k]}" for k in ("reason", "exit_code") if end[k])
            return {"status": "failed", "ended_at": _utcnow().isoformat(), "error": {
                "ename": f"Job{end['state'].title().replace('_', '')}",
                "evalue": f"{why} ({detail})" if detail else why,
                "log_tail": _tail(log, uid)}}  # fmt: skip
        pid = entry.get("pid")
        if pid is None or pid in running or (pid not in finished and pid_alive(pid)):
            return None
        if self._reread(entry) not in OPEN:
            return None
        code = finished.get(pid)
        said = f"exit code {code}" if code is not None else "it is no longer running"
        return {"status": "failed", "ended_at": _utcnow().isoformat(), "error": {
            "ename": "ProcessEnded", "evalue": f"the run's process {pid} ended without a "
            f"record ({said})", "log_tail": _tail(log, os.getuid())}}  # fmt: skip

    def _reread(self, entry: dict[str, Any]) -> str | None:
        slot = dt.datetime.fromisoformat(entry["slot"])
        try:
            return json.loads(self.journal.path(entry["schedule"], slot).read_text())["status"]
        except (OSError, ValueError, KeyError):
            return None

    def _notify(self, schedule: Schedule, slot: dt.datetime, entry: dict[str, Any]) -> dict:
        return _notify(schedule, entry, self.settings,
                       lambda **c: self.journal.update(schedule.id, slot, **c))  # fmt: skip

    def reap(self) -> None:
        """Collect finished child processes."""
        self.children = [p for p in self.children if p.poll() is None]

    def wait(self, timeout: float = 120) -> None:
        """Wait for launched local children (tests, shutdown), then reconcile their records."""
        deadline = time.monotonic() + timeout
        for proc in self.children:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.reconcile()

    def prepare_store(self) -> list[Path]:
        """As root: the site's results store with a sticky shared folder per challenge."""
        from genesis_lab.pipelines.challenge import list_challenges
        from genesis_lab.pipelines.store import prepare_site_store

        assert self.settings.results_root is not None
        ids = [c.id for c in list_challenges(self.settings)]
        return prepare_site_store(self.settings.results_root, ids)

    def serve(self, interval: float = 30.0, stop: threading.Event | None = None) -> None:
        """Recover, then tick every ``interval`` seconds until ``stop`` is set."""
        stop = stop or threading.Event()
        self.prepare_store()
        self.recover()
        while not stop.is_set():
            self.tick()
            stop.wait(interval)


def _submit(script: str, prefix: list[str], env: dict[str, str], cwd: str | None) -> str:
    """``sbatch`` the script as ``prefix``'s account with exactly ``env`` (SLURM exports the
    submitter's environment to the job: the scheduler's own must not reach it)."""
    from genesis_lab.compute.commands import run_command

    if not prefix:
        from genesis_lab.pipelines.batch import sbatch

        return sbatch(script)
    argv = [*prefix, "sbatch", "--parsable"] + ([f"--chdir={cwd}"] if cwd else [])
    proc = run_command(argv, timeout=60, input=script, env=env)
    return proc.stdout.strip().split(";")[0]


def _notify(
    schedule: Schedule,
    entry: dict[str, Any],
    settings: Settings,
    update: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    from genesis_lab.pipelines.notify import notify_owner

    try:
        sent = notify_owner(
            schedule.owner,
            f"[genesis-lab] scheduled run of {schedule.challenge} failed",
            entry,
            target=schedule.notify,
            settings=settings,
        )
    except GenesisError as exc:  # the run is recorded; a notice that cannot be sent is noted
        return update(notified=[], notify_error=str(exc))
    return update(notified=sent)


def fire(
    schedule_id: str,
    slot_text: str,
    settings: Settings | None = None,
    *,
    outcome: Path | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one claimed slot (the body of ``genesis-lab schedule fire``); returns its record.

    Claims ``<slot>.started`` exclusively, runs the challenge and records the outcome: in the
    journal (notifying the owner on failure), or, run as the owner's account (``outcome``, with
    the schedule's ``spec``: challenge, parameters, allocation), in the ``outcome`` file the
    scheduler reads back and notifies from.
    """
    from genesis_lab.pipelines.runner import run

    settings = settings or get_settings()
    journal = Journal(settings)
    slot = dt.datetime.fromisoformat(slot_text)
    if outcome is not None:
        outcome = Path(outcome)
        spec = spec or {}
        schedule = Schedule(id=schedule_id, challenge=spec["challenge"], cron="* * * * *",
                            owner=settings.user, allocation=spec.get("allocation"),
                            parameters=spec.get("parameters") or {}, created=slot)  # fmt: skip
        marker = outcome.with_suffix(".started")
        record: dict[str, Any] = {"schedule": schedule_id, "slot": slot.isoformat()}

        def update(**changes: Any) -> dict[str, Any]:
            record.update(changes)
            write_json_atomic(outcome, record)
            return record
    else:
        schedule = ScheduleBook(settings).get(schedule_id)
        marker = journal.path(schedule_id, slot).with_suffix(".started")

        def update(**changes: Any) -> dict[str, Any]:
            return journal.update(schedule_id, slot, **changes)

    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return {"schedule": schedule_id, "slot": slot.isoformat(), "status": "already-started"}
    update(status="running", started_at=_utcnow().isoformat())
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
        entry = update(
            status="failed",
            run_id=exc.run_id,
            error={"cell": exc.cell, "ename": exc.ename, "evalue": exc.evalue},
            ended_at=_utcnow().isoformat(),
        )
    except GenesisError as exc:
        entry = update(status="failed", error={"ename": type(exc).__name__, "evalue": str(exc)},
                       ended_at=_utcnow().isoformat())  # fmt: skip
    else:
        return update(
            status="completed",
            run_id=result.run_id,
            metrics=result.metrics,
            ended_at=_utcnow().isoformat(),
        )
    if outcome is not None:
        return entry  # the scheduler notifies: it has the site's notification settings
    return _notify(schedule, entry, settings, update)
