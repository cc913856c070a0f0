"""Spawners that bind each session to one HPC allocation: an options form, checks, environment.

``AllocationSpawnerMixin`` mixes into any JupyterHub spawner; ``LocalAllocationSpawner`` runs the
session as a local process, ``SlurmAllocationSpawner`` (in :mod:`genesis_lab.hub.slurm`) as a job.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import jupyterhub.spawner
from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from jupyterhub.utils import maybe_future
from tornado import web
from traitlets import Bool, Dict, HasTraits, Unicode, default

from genesis_lab.compute.allocations import (
    Allocation,
    allocations_for,
    check_allocation,
    get_allocations,
    session_environment,
)
from genesis_lab.compute.commands import in_daemon_thread, process_started, same_process
from genesis_lab.errors import AllocationError, GenesisError
from genesis_lab.hub.accounts import (
    DEFAULT_PREFIX,
    UnixAccount,
    account_name,
    can_switch_users,
    ensure_account,
    lookup_account,
)
from genesis_lab.hub.metrics import (
    ACTIVE_SESSIONS,
    SPAWN_PENDING,
    SPAWN_REFUSALS,
    SPAWNS,
    refusal_reason,
)
from genesis_lab.hub.options import SessionRequest, form_options, parse_request, render_form

__all__ = ["AllocationRefused", "AllocationSpawnerMixin", "LocalAllocationSpawner", "SpawnRefused"]

_SpawnException: type | None = getattr(jupyterhub.spawner, "SpawnException", None)  # hub >= 6


class SpawnRefused(web.HTTPError):
    """A session that cannot start; the message is shown on the spawn page and in the API."""

    def __init__(self, status_code: int, message: str):
        web.HTTPError.__init__(self, status_code, "%s", message, reason="Session refused")
        self.jupyterhub_message = message


class AllocationRefused(SpawnRefused, *((_SpawnException,) if _SpawnException else ())):
    """A request the site's allocation rules forbid (a policy refusal, not a failure).

    On JupyterHub 6 it is also a ``SpawnException``: the hub labels the spawn ``failure`` with
    ``reason`` (the label :func:`genesis_lab.hub.metrics.refusal_reason` gives) in its own
    ``jupyterhub_server_spawn_duration_seconds``, and does not count it as a hub error.

    >>> e = AllocationRefused(403, "Session refused: User 'a' is not a member of allocation 'x'.")
    >>> e.status_code, e.reason
    (403, 'not-member')
    """

    def __init__(self, status_code: int, message: str, *, reason: str = ""):
        SpawnRefused.__init__(self, status_code, message)
        self.reason = reason or refusal_reason(message)
        self.message, self.message_html = message, ""
        if _SpawnException is not None:
            self.log_message = message  # SpawnException's (tornado's is read-only)


def _refusal(exc: AllocationError) -> AllocationRefused:
    text = str(exc)
    status = 400 if text.startswith(("Request beyond", "Unknown session option")) else 403
    return AllocationRefused(status, f"Session refused: {text}")


class AllocationSpawnerMixin(HasTraits):
    """Adds the allocation options form, the membership/budget/limit checks and the session's
    allocation environment to a JupyterHub spawner (put it first in the bases).

    After :meth:`apply_allocation`, ``self.allocation`` and ``self.session_request`` hold what
    the session charges; :meth:`apply_resources` lets each spawner turn them into its own traits.
    """

    default_profile = Dict(
        {"cores": "1", "memory": "2GB", "walltime": "01:00:00"},
        help="Cores, memory and walltime the options form proposes; missing fields of a "
        "request posted through the REST API take these values too.",
    ).tag(config=True)

    site_file = Unicode(
        "",
        help="Site file passed to the session as GENESIS_SITE_FILE, so the kernel sees the "
        "same allocations as the hub.",
    ).tag(config=True)

    allocation: Allocation | None = None
    session_request: SessionRequest | None = None
    _active_label: str | None = None

    @default("options_form")
    def _genesis_options_form(self) -> Any:
        return lambda spawner: spawner.options_form_html()

    @default("apply_user_options")
    def _genesis_apply_user_options(self) -> Any:
        return lambda spawner, options: spawner.apply_allocation(options)

    def render_options_form(self) -> str:
        """The HTML form: the allocations the user is a member of, and a resource profile."""
        return render_form(*self._form_inputs())

    async def options_form_html(self) -> str:
        """:meth:`render_options_form` for the hub: the balances (the ledger, the batch queue's
        running jobs) are read in a thread, so a slow ``squeue`` holds neither the hub's loop nor
        its exit."""
        allocations, defaults, chosen = self._form_inputs()
        render = functools.partial(render_form, allocations, defaults, chosen=chosen)
        return await in_daemon_thread(render, name="genesis-spawn-form")

    def _form_inputs(self) -> tuple[list[Allocation], dict[str, str], str]:
        previous = (getattr(self, "orm_spawner", None) and self.orm_spawner.user_options) or {}
        defaults = {**self.default_profile}
        defaults.update({k: str(v) for k, v in previous.items() if k in defaults})
        return allocations_for(self.user.name), defaults, str(previous.get("allocation", ""))

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, str]:
        """Parse and check the posted form (or ``/hub/spawn?opt-...`` query); a refusal
        re-renders the form with its reason."""
        try:
            options = form_options(formdata)
        except AllocationError as exc:
            refused = _refusal(exc)
            self._count_refusal({}, refused.reason)
            raise refused from None
        return self._checked_request(options)[1].as_options()

    def _checked_request(self, options: dict[str, Any]) -> tuple[Allocation, SessionRequest]:
        user = self.user.name
        try:
            if not options.get("allocation"):
                mine = allocations_for(user)
                if not mine:
                    raise AllocationError(
                        f"User {user!r} is not a member of any allocation; ask your PI or the "
                        "site admin to add you to one."
                    )
                options = {**options, "allocation": mine[0].id}
            request = parse_request(options, self.default_profile)
            allocation = get_allocations().get(request.allocation)
            if allocation is None:
                # an unknown id gets the same answer as a foreign one: no hint of what exists
                raise AllocationError(
                    f"User {user!r} is not a member of allocation {request.allocation!r}."
                )
            check_allocation(
                allocation,
                user,
                cores=request.cores,
                memory=request.memory,
                walltime=request.walltime,
            )
        except AllocationError as exc:
            refused = _refusal(exc)
            self._count_refusal(options, refused.reason)
            raise refused from None
        except GenesisError as exc:
            raise SpawnRefused(500, f"Session refused: {exc}") from None
        return allocation, request

    @staticmethod
    def _count_refusal(options: dict[str, Any], reason: str) -> None:
        chosen = str(options.get("allocation") or "")
        label = chosen if chosen in get_allocations() else "unknown"  # labels stay few
        SPAWN_REFUSALS.labels(label, reason).inc()
        SPAWNS.labels(label, "refused").inc()

    def apply_allocation(self, options: dict[str, Any]) -> None:
        """Check ``options`` (form or REST) and bind this spawner to the allocation they name."""
        allocation, request = self._checked_request(options or {})
        self.allocation, self.session_request = allocation, request
        self.user_options = request.as_options()
        self.apply_resources(allocation, request)
        self.log.info(
            "Session of %s charges allocation %s (%s cores, %s, %s)",
            self.user.name,
            allocation.id,
            request.cores,
            request.memory,
            request.walltime,
        )

    def apply_resources(self, allocation: Allocation, request: SessionRequest) -> None:
        """Turn the checked request into this spawner's own settings (override per spawner)."""
        self.cpu_limit = float(request.cores)
        self.mem_limit = request.memory_bytes

    def allocation_environment(self) -> dict[str, str]:
        """Variables that bind the session to its allocation (GENESIS_ALLOCATION, dask config)."""
        env = session_environment(self.allocation)
        if self.site_file:
            env["GENESIS_SITE_FILE"] = self.site_file
        return env

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(self.allocation_environment())
        return env

    async def start(self) -> Any:
        if self.allocation is None:
            # a hook configured elsewhere replaced apply_user_options: check here instead
            self.apply_allocation(self.user_options or {})
        assert self.allocation is not None
        label, began = self.allocation.id, time.monotonic()
        started_at = time.time()
        try:
            url = await super().start()
        except Exception:
            SPAWNS.labels(label, "failed").inc()
            raise
        request = self.session_request
        self._genesis_charge = {
            "allocation": label,
            "cores": request.cores if request else 1,
            "start": started_at,
        }
        SPAWNS.labels(label, "started").inc()
        SPAWN_PENDING.labels(label).observe(time.monotonic() - began)
        if self._active_label is None:
            ACTIVE_SESSIONS.labels(label).inc()
            self._active_label = label
        return url

    async def stop(self, now: bool = False) -> Any:
        try:
            return await super().stop(now=now)
        finally:
            if self._active_label is not None:
                ACTIVE_SESSIONS.labels(self._active_label).dec()
                self._active_label = None

    _genesis_charge: dict[str, Any] | None = None
    _genesis_ended_job: str = ""
    _genesis_charged_job: str = ""

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()  # type: ignore[misc]
        if self._genesis_charge:
            state["genesis_charge"] = self._genesis_charge
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)  # type: ignore[misc]
        self._genesis_charge = state.get("genesis_charge") or self._genesis_charge

    def clear_state(self) -> None:
        # batchspawner's poll clears the job id of a session found ended before JupyterHub runs
        # the post-stop hook: keep it for the charge
        self._genesis_ended_job = str(getattr(self, "job_id", "") or self._genesis_ended_job)
        super().clear_state()  # type: ignore[misc]

    async def _job_usage(self, job_id: str) -> tuple[int, float, float, str] | None:
        """(cores, start, end, source) of a batch job: from accounting (``sacct``) when it
        answers, else from the scheduler's own record of it (``scontrol``)."""
        from genesis_lab.compute.accounting import accounted_usage
        from genesis_lab.hub import queue

        usage = functools.partial(accounted_usage, job_id, settle=10)
        accounted = await in_daemon_thread(usage, name="genesis-session-charge")
        if accounted is not None:
            return (*accounted, "sacct")
        code, out, _ = await queue.run_argv(["scontrol", "show", "job", "-o", job_id], 30)
        fields = dict(p.split("=", 1) for p in out.split() if "=" in p) if code == 0 else {}
        try:
            start = datetime.fromisoformat(fields["StartTime"]).timestamp()
            end_text = fields.get("EndTime", "")
            end = datetime.fromisoformat(end_text).timestamp() if end_text[:1].isdigit() else None
            end = min(end or time.time(), time.time())
            return int(fields["NumCPUs"]), start, end, "job-lifetime"
        except (KeyError, ValueError):
            return None

    async def charge_session(self) -> Any:
        """Charge the session that just ended to the site ledger. A batch job is charged from
        accounting (``sacct``) where it answers, else from the scheduler's record of it
        (``scontrol``): cores allocated from start to end; a local
        session, the cores it asked for from its start to now: both what the allocation held.

        The hub appends directly: it is root (or, in a trial, the service's own account), and it
        is the one that saw the session start and end; no session account can write the file.
        """
        from genesis_lab.compute.ledger import UsageRecord, get_ledger

        charge, self._genesis_charge = self._genesis_charge, None
        job_id = str(getattr(self, "job_id", "") or self._genesis_ended_job)
        self._genesis_ended_job = ""
        if job_id and job_id == self._genesis_charged_job:
            return None  # clear_state kept the id of a job already charged
        self._genesis_charged_job = job_id
        allocation = (charge or {}).get("allocation") or (self.user_options or {}).get("allocation")
        now = time.time()
        found = await self._job_usage(job_id) if job_id else None
        if found is not None:
            cores, start, end, *how = found
            ref, source = job_id, (how or ["job-lifetime"])[0]
        elif charge:
            cores, start, end = int(charge["cores"]), min(float(charge["start"]), now), now
            ref, source = job_id or f"{self.user.name}:{start:.0f}", "session-lifetime"
        else:
            return None
        if not allocation:
            return None
        rec = UsageRecord.from_times(
            allocation=str(allocation), user=self.user.name, kind="session", ref=ref,
            cores=cores, start=start, end=max(end, start), source=source,  # type: ignore[arg-type]
        )  # fmt: skip
        try:
            return get_ledger().record(rec)
        except (GenesisError, OSError) as exc:
            self.log.error("Session of %s not charged (%s core-hours): %s",
                           self.user.name, rec.core_hours, exc)  # fmt: skip
            return None

    async def run_post_stop_hook(self) -> Any:  # type: ignore[override]
        # JupyterHub awaits this after every end of a session, stopped or found ended by poll
        await self.charge_session()
        return await maybe_future(super().run_post_stop_hook())  # type: ignore[misc]


def private_tmp(home: Path) -> str:
    """The session's temporary folder, inside its private home: a shared ``/tmp`` would let the
    first user's ``dask-scratch-space`` (or any fixed name) lock every other user out.

    >>> private_tmp(Path("/home/jupyter-alice"))
    '/home/jupyter-alice/.cache/tmp'
    """
    return str(home / ".cache" / "tmp")


class LocalAllocationSpawner(AllocationSpawnerMixin, LocalProcessSpawner):
    """Sessions as local processes, each user's as their own Unix account when the hub is root.

    * **As root** (``run_as_accounts``, the default then): every hub user's session runs as a
      Unix account of their own (``account_prefix`` + name, created at the first spawn with a
      0700 home under ``accounts_home_root``), through JupyterHub's setuid in the child. Nobody,
      admins included, gets a root session; sessions cannot read or signal each other.
    * **Otherwise** there is one Unix identity: sessions run as the hub's user, one folder per hub
      user (``home_dir_template``). Folders are then separated by path only, so the genesis
      service serves public data alone (a single-identity trial).
    """

    run_as_accounts = Bool(
        help="Run each user's session as their own Unix account (needs the hub to run as root).",
    ).tag(config=True)

    @default("run_as_accounts")
    def _run_as_accounts_default(self) -> bool:
        return can_switch_users()

    account_prefix = Unicode(
        DEFAULT_PREFIX, help="Prefix of the users' Unix account names (jupyter-alice)."
    ).tag(config=True)

    accounts_home_root = Unicode(
        "/home", help="Folder holding the homes of the accounts created for hub users."
    ).tag(config=True)

    home_dir_template = Unicode(
        "", help="Session folder of a hub user when sessions share the hub's Unix identity."
    ).tag(config=True)

    account: UnixAccount | None = None
    _pid_started: float = 0.0

    @default("cmd")
    def _cmd_default(self) -> list[str]:
        return [str(Path(sys.executable).parent / "jupyterhub-singleuser")]

    @property
    def home_dir(self) -> str:
        """The session's home folder (the account's home, or the per-user folder)."""
        if self.run_as_accounts:
            account = self.account or lookup_account(
                account_name(self.user.name, self.account_prefix)
            )
            if account is not None:
                return str(account.home)
            return str(
                Path(self.accounts_home_root) / account_name(self.user.name, self.account_prefix)
            )
        template = self.home_dir_template or str(Path.home() / "genesis-sessions" / "{username}")
        return template.format(username=self.user.name)

    def ensure_account(self) -> UnixAccount | None:
        """Create (once) and return the user's Unix account; None in single-identity mode."""
        if not self.run_as_accounts:
            return None
        if os.geteuid() != 0:
            raise SpawnRefused(
                500, "Session refused: run_as_accounts needs the hub to run as root."
            )
        try:
            self.account = ensure_account(
                self.user.name,
                home_root=Path(self.accounts_home_root),
                prefix=self.account_prefix,
            )
        except GenesisError as exc:
            raise SpawnRefused(500, f"Session refused: {exc}") from None
        return self.account

    def run_pre_spawn_hook(self) -> Any:
        # the account (and its home) must exist before the hook delivers files into the home
        self.ensure_account()
        return super().run_pre_spawn_hook()

    async def start(self) -> Any:
        if self.run_as_accounts and self.account is None:
            self.ensure_account()
        url = await super().start()
        self._pid_started = process_started(self.pid)
        await self._until_listening()
        return url

    # A hub restarted after its session ended knows the session by its pid only, and Linux hands
    # out pids again (pid_max is 32768 on many machines): JupyterHub would take a stranger with
    # that pid for the session, and stop() would kill it as root. The process's start time,
    # kept with the pid, tells them apart.
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.pid and self._pid_started:
            state["pid_started"] = self._pid_started
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self._pid_started = float(state.get("pid_started") or 0.0)

    def clear_state(self) -> None:
        super().clear_state()
        self._pid_started = 0.0

    async def _signal(self, sig: int) -> bool:
        resumed = self.proc is None and self.pid and self._pid_started
        if resumed and not same_process(self.pid, self._pid_started):
            return False  # the session is gone; the pid is another process's
        return await super()._signal(sig)

    async def _until_listening(self) -> None:
        # the hub checks a new server with exponential back-off (up to ~1 s late); answering
        # only once the port accepts connections lets its first check succeed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.http_timeout
        while loop.time() < deadline:
            if await self.poll() is not None:
                return  # the process died: the hub reports it
            try:
                _, writer = await asyncio.open_connection(self.ip or "127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    def make_preexec_fn(self, name: str) -> Any:
        if self.run_as_accounts:
            assert self.account is not None
            become = set_user_setuid(self.account.name)
            tmp = private_tmp(self.account.home)

            def preexec_as_account() -> None:
                become()
                os.makedirs(tmp, 0o700, exist_ok=True)

            return preexec_as_account
        home = self.home_dir

        def preexec() -> None:  # runs in the child: a private folder per hub user
            os.makedirs(home, 0o700, exist_ok=True)
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        if self.run_as_accounts:
            assert self.account is not None
            tmp = private_tmp(self.account.home)
            env.update(USER=self.account.name, LOGNAME=self.account.name,
                       HOME=str(self.account.home), SHELL="/bin/bash",
                       TMPDIR=tmp, DASK_TEMPORARY_DIRECTORY=tmp)  # fmt: skip
            return env
        env.update(USER=self.user.name, HOME=self.home_dir, SHELL="/bin/bash")
        return env
