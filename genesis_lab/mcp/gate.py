"""The human gate of AI agents: limits per call and per day, pending requests, and the stop.

State lives in ``<state_dir>/agents/`` (the user's own): ``requests.json``, ``charges.json``,
``stop.json``, ``revoked-tokens.json``, and one file per process that runs agent work
(``procs/<pid>.json``), so ``genesis-lab agent stop`` reaches every such process within a second.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from genesis_lab.access.hubapi import AGENT_SCOPE, HubAPIError, HubClient
from genesis_lab.compute.allocations import AgentLimits
from genesis_lab.compute.commands import pid_alive
from genesis_lab.errors import GenesisError
from genesis_lab.fileio import atomic_write_text

__all__ = [
    "Admission",
    "Estimate",
    "Gate",
    "StopReport",
    "UnknownRequestError",
    "argument_digest",
    "stop_agents",
]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""How often a process running agent work looks for a stop."""
ACK_WAIT_SECONDS = 3.0
"""How long :meth:`Gate.stop` waits for the other processes to say they stopped their work."""
KEEP_DAYS = 8

Decision = Literal["pending", "approved", "rejected"]


class UnknownRequestError(GenesisError, KeyError):
    """No agent request has this id."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Estimate:
    """What a tool call is expected to cost: core-hours, and whether it submits batch jobs."""

    core_hours: float
    batch: bool


@dataclass(frozen=True)
class Admission:
    """The gate's answer to a call: run it, hold it for the user, or refuse it."""

    status: Literal["allowed", "pending", "refused"]
    request_id: str | None
    reason: str


@dataclass
class StopReport:
    """What a stop did: work cancelled and batch jobs cancelled across processes, and its time."""

    work_cancelled: int = 0
    jobs_cancelled: int = 0
    seconds: float = 0.0
    processes: int = 0
    errors: list[str] = field(default_factory=list)


def argument_digest(tool: str, arguments: dict[str, Any]) -> str:
    """A stable sha256 of a call (the tool and its arguments in canonical JSON).

    >>> argument_digest("simulator_run", {"b": 1, "a": 2}) == argument_digest(
    ...     "simulator_run", {"a": 2, "b": 1})
    True
    """
    text = json.dumps([tool, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> float:
    return time.time()


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


def _day(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).date().isoformat()


@dataclass
class _Work:
    cancel: Callable[[], None]
    batch_job_ids: list[str]


class Gate:
    """Admits agent calls within an allocation's limits; holds the others for the user.

    >>> import tempfile, pathlib
    >>> from genesis_lab.compute.allocations import AgentLimits
    >>> gate = Gate(AgentLimits(core_hours_per_call=1), pathlib.Path(tempfile.mkdtemp()))
    >>> gate.admit("simulator_run", {"n": 1}, Estimate(0.1, False)).status
    'allowed'
    >>> held = gate.admit("sweep_start", {"n": 10**6}, Estimate(50, False))
    >>> held.status, gate.decision(held.request_id)
    ('pending', 'pending')
    >>> gate.approve(held.request_id, by="alice")
    >>> gate.admit("sweep_start", {"n": 10**6}, Estimate(50, False)).status
    'allowed'
    """

    def __init__(
        self,
        limits: AgentLimits,
        folder: Path,
        *,
        allocation: str | None = None,
        scheduler: str = "slurm",
        clock: Callable[[], float] = _now,
    ):
        self.limits = limits
        self.folder = Path(folder)
        self.allocation = allocation
        self.scheduler = scheduler
        self.clock = clock
        self._work: dict[str, _Work] = {}
        self._work_lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()
        self._seen_generation = 0
        self._on_stop: list[Callable[[], None]] = []

    @classmethod
    def for_session(cls) -> Gate:
        """The gate of this session: its allocation's ``agents`` limits, the user's state dir.

        >>> isinstance(Gate.for_session().limits, AgentLimits)
        True
        """
        from genesis_lab.compute.allocations import get_allocation
        from genesis_lab.settings import get_settings

        allocation = get_allocation()
        state_dir = get_settings().state_dir
        assert state_dir is not None
        return cls(
            allocation.agents if allocation else AgentLimits(),
            Path(state_dir) / "agents",
            allocation=allocation.id if allocation else None,
            scheduler=allocation.scheduler if allocation else "slurm",
        )

    # -- files ----------------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        return self.folder / name

    def _read(self, name: str, default: Any) -> Any:
        try:
            return json.loads(self._path(name).read_text())
        except FileNotFoundError:
            return default
        except ValueError as exc:
            raise GenesisError(
                f"The agent gate's file {self._path(name)} is not valid JSON ({exc}); "
                "remove it to start afresh."
            ) from None

    def _write(self, name: str, value: Any) -> None:
        atomic_write_text(self._path(name), json.dumps(value, indent=1), mode=0o600)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- admission ------------------------------------------------------------------------
    def _where(self) -> str:
        return f"allocation {self.allocation!r}" if self.allocation else "this session"

    def _over_limits(self, estimate: Estimate, used_today: float) -> list[str]:
        lim, reasons = self.limits, []
        if estimate.batch and not lim.batch:
            reasons.append(
                f"batch submissions by agents need approval on {self._where()} (agents.batch: false)"
            )
        if estimate.core_hours > lim.core_hours_per_call:
            reasons.append(
                f"{estimate.core_hours:g} core-hours is over the per-call limit of "
                f"{lim.core_hours_per_call:g} on {self._where()} (agents.core_hours_per_call)"
            )
        if used_today + estimate.core_hours > lim.core_hours_per_day:
            reasons.append(
                f"{used_today:g} core-hours used today plus {estimate.core_hours:g} is over the "
                f"daily limit of {lim.core_hours_per_day:g} on {self._where()} "
                "(agents.core_hours_per_day)"
            )
        return reasons

    def admit(self, tool: str, arguments: dict[str, Any], estimate: Estimate) -> Admission:
        """Allow a call within the limits; hold one over a limit as a pending request.

        The same call (tool and arguments) again: still pending while it waits, allowed once
        after the user approved it, refused after they rejected it; everything is refused after
        :meth:`stop` until :meth:`enable`.
        """
        digest = argument_digest(tool, arguments)
        with self._locked():
            stop = self._read("stop.json", {})
            if stop.get("active"):
                return Admission(
                    "refused",
                    None,
                    f"agents were stopped by {stop.get('by', 'the user')} at {stop.get('at')}; "
                    "`genesis-lab agent enable` lets them run again",
                )
            requests = self._read("requests.json", {})
            for req in requests.values():
                if req["digest"] != digest or req.get("used"):
                    continue
                if req["status"] == "pending":
                    return Admission("pending", req["id"], req["reason"])
                if req["status"] == "rejected":
                    return Admission(
                        "refused", req["id"], f"request {req['id']} was rejected by {req['by']}"
                    )
                if req["status"] == "approved":
                    req["used"] = True
                    self._write("requests.json", requests)
                    return Admission(
                        "allowed", req["id"], f"request {req['id']} was approved by {req['by']}"
                    )
            used_today = float(self._read("charges.json", {}).get(_day(self.clock()), 0.0))
            reasons = self._over_limits(estimate, used_today)
            if not reasons:
                return Admission("allowed", None, "within the agent limits")
            request_id = f"r-{secrets.token_hex(4)}"
            reason = "; ".join(reasons)
            requests[request_id] = {
                "id": request_id,
                "tool": tool,
                "digest": digest,
                "core_hours": float(estimate.core_hours),
                "batch": bool(estimate.batch),
                "reason": reason,
                "created": _iso(self.clock()),
                "status": "pending",
                "by": None,
                "decided": None,
            }
            self._write("requests.json", requests)
        return Admission(
            "pending",
            request_id,
            f"held for the user's approval: {reason}. They approve it with "
            f"`genesis-lab agent approve {request_id}` or in the Genesis side panel",
        )

    def decision(self, request_id: str) -> Decision:
        """``pending``, ``approved`` or ``rejected``."""
        return self._request(self._read("requests.json", {}), request_id)["status"]

    def _request(self, requests: dict[str, Any], request_id: str) -> dict[str, Any]:
        if request_id not in requests:
            waiting = [r for r, v in requests.items() if v["status"] == "pending"]
            known = ", ".join(waiting) or "none"
            raise UnknownRequestError(
                f"No agent request with id {request_id!r} (pending ones: {known}); "
                "`genesis-lab agent pending` lists them."
            )
        return requests[request_id]

    def _decide(self, request_id: str, status: Decision, by: str) -> None:
        with self._locked():
            requests = self._read("requests.json", {})
            req = self._request(requests, request_id)
            if req["status"] != "pending":
                raise GenesisError(
                    f"Agent request {request_id!r} was already {req['status']} by {req['by']}."
                )
            req.update(status=status, by=by, decided=_iso(self.clock()))
            self._write("requests.json", requests)

    def approve(self, request_id: str, by: str) -> None:
        """Let the held call run (once)."""
        self._decide(request_id, "approved", by)

    def reject(self, request_id: str, by: str) -> None:
        """Refuse the held call."""
        self._decide(request_id, "rejected", by)

    def pending(self) -> list[dict[str, Any]]:
        """The requests waiting for the user, oldest first: id, tool, digest, estimate, reason."""
        requests = self._read("requests.json", {})
        keys = ("id", "tool", "digest", "core_hours", "batch", "reason", "created")
        waiting = [r for r in requests.values() if r["status"] == "pending"]
        return [{k: r[k] for k in keys} for r in sorted(waiting, key=lambda r: r["created"])]

    def charge(self, core_hours: float) -> None:
        """Count core-hours agents used today (UTC) against the daily limit."""
        with self._locked():
            charges = self._read("charges.json", {})
            today = _day(self.clock())
            charges[today] = float(charges.get(today, 0.0)) + float(core_hours)
            self._write("charges.json", dict(sorted(charges.items())[-KEEP_DAYS:]))

    def used_today(self) -> float:
        """Core-hours charged by agents today (UTC)."""
        return float(self._read("charges.json", {}).get(_day(self.clock()), 0.0))

    # -- work and the stop ----------------------------------------------------------------
    def register_work(
        self, handle: str, cancel: Callable[[], None], batch_job_ids: list[str]
    ) -> None:
        """Remember running agent work (again to add batch jobs): a stop cancels it."""
        with self._work_lock:
            self._work[handle] = _Work(cancel, list(batch_job_ids))
        self.watch()

    def unregister_work(self, handle: str) -> None:
        """Forget finished work."""
        with self._work_lock:
            self._work.pop(handle, None)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Also call ``callback`` (in the watching thread) when a stop reaches this process."""
        self._on_stop.append(callback)
        self.watch()

    def stopped(self) -> dict[str, Any] | None:
        """The stop in force (who, when), or None while agents may run."""
        stop = self._read("stop.json", {})
        return stop if stop.get("active") else None

    def enable(self, by: str) -> None:
        """Let agents run again after a stop (tokens revoked then stay revoked)."""
        with self._locked():
            stop = self._read("stop.json", {})
            stop.update(active=False, enabled_by=by, enabled=_iso(self.clock()))
            self._write("stop.json", stop)

    def revoke_tokens(self, token_ids: list[str]) -> None:
        """Record hub token ids that the MCP endpoint refuses from now on."""
        with self._locked():
            known = set(self._read("revoked-tokens.json", []))
            self._write("revoked-tokens.json", sorted(known | set(token_ids)))

    def token_revoked(self, token_id: str | None) -> bool:
        """Whether the MCP endpoint must refuse this hub token id."""
        return token_id is not None and token_id in set(self._read("revoked-tokens.json", []))

    def stop(self, by: str = "the user") -> StopReport:
        """Refuse every agent call from now on, cancel the agent work of every process and
        scancel its batch jobs; returns once they said so (at most a few seconds)."""
        began = time.monotonic()
        with self._locked():
            stop = self._read("stop.json", {})
            generation = int(stop.get("generation", 0)) + 1
            self._write(
                "stop.json",
                {"active": True, "generation": generation, "by": by, "at": _iso(self.clock())},
            )
        self._seen_generation = generation
        report = StopReport()
        self._cancel_all(report)
        report.processes = 1
        others = [p for p in self._processes() if p != os.getpid()]
        deadline = time.monotonic() + ACK_WAIT_SECONDS
        while others and time.monotonic() < deadline:
            for pid in list(others):
                ack = self._read(f"procs/{pid}.ack-{generation}.json", None)
                if ack is not None:
                    report.work_cancelled += ack["work_cancelled"]
                    report.jobs_cancelled += ack["jobs_cancelled"]
                    report.errors += ack["errors"]
                    report.processes += 1
                    others.remove(pid)
                    self._path(f"procs/{pid}.ack-{generation}.json").unlink(missing_ok=True)
                elif not pid_alive(pid):
                    others.remove(pid)
            time.sleep(0.05)
        report.errors += [f"process {pid} did not confirm the stop" for pid in others]
        report.seconds = round(time.monotonic() - began, 3)
        return report

    def _cancel_all(self, report: StopReport) -> None:
        with self._work_lock:
            work, self._work = self._work, {}
        jobs: list[str] = []
        for handle, item in work.items():
            try:
                item.cancel()
                report.work_cancelled += 1
            except Exception as exc:  # a cancel that fails must not stop the others
                report.errors.append(f"cancelling {handle}: {type(exc).__name__}: {exc}")
            jobs += item.batch_job_ids
        if jobs:
            report.jobs_cancelled += self._cancel_jobs(jobs, report)
        for callback in self._on_stop:
            try:
                callback()
            except Exception as exc:
                report.errors.append(f"stop callback: {type(exc).__name__}: {exc}")

    def _cancel_jobs(self, job_ids: list[str], report: StopReport) -> int:
        from genesis_lab.compute.commands import run_command
        from genesis_lab.compute.schedulers import scheduler_config

        try:
            command = list(scheduler_config(self.scheduler)["cancel_jobs"])
        except (KeyError, GenesisError):
            command = ["scancel"]
        try:
            run_command([*command, *job_ids], timeout=4)
        except GenesisError as exc:
            report.errors.append(str(exc))
            return 0
        return len(job_ids)

    # -- the watcher ----------------------------------------------------------------------
    def _processes(self) -> list[int]:
        procs = self.folder / "procs"
        if not procs.is_dir():
            return []
        return [int(p.stem) for p in procs.glob("*.json") if p.stem.isdigit()]

    def watch(self) -> None:
        """Start (once) the thread that carries a stop into this process."""
        if self._watcher is not None:
            return
        (self.folder / "procs").mkdir(parents=True, exist_ok=True, mode=0o700)
        for pid in self._processes():
            if not pid_alive(pid):
                for stale in (self.folder / "procs").glob(f"{pid}.*"):
                    stale.unlink(missing_ok=True)
        self._write(f"procs/{os.getpid()}.json", {"pid": os.getpid(), "started": _iso(_now())})
        self._seen_generation = int(self._read("stop.json", {}).get("generation", 0))
        self._watcher = threading.Thread(target=self._watch, name="agent-gate-stop", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._closed.wait(POLL_SECONDS):
            try:
                stop = self._read("stop.json", {})
            except GenesisError:
                continue
            generation = int(stop.get("generation", 0))
            if generation <= self._seen_generation:
                continue
            self._seen_generation = generation
            report = StopReport()
            self._cancel_all(report)
            with contextlib.suppress(OSError):
                self._write(f"procs/{os.getpid()}.ack-{generation}.json", asdict(report))

    def close(self) -> None:
        """Stop watching and forget this process's registration."""
        self._closed.set()
        if self._watcher is not None:
            self._watcher.join(2)
            self._watcher = None
        self._path(f"procs/{os.getpid()}.json").unlink(missing_ok=True)


def stop_agents(gate: Gate, hub: HubClient | None, by: str) -> dict[str, Any]:
    """The whole stop: refuse agent calls, cancel their work and jobs in every process, and
    revoke the user's agent tokens (listed with ``hub``'s token; refused by the MCP endpoint
    from now on, and deleted at the hub when that token may manage tokens).

    Returns ``tokens_revoked``, ``work_cancelled``, ``jobs_cancelled``, ``seconds`` and the
    details (``tokens_deleted``, ``errors``).
    """
    began = time.monotonic()
    report = gate.stop(by=by)
    errors = list(report.errors)
    revoked = deleted = 0
    if hub is None:
        errors.append("no hub token: agent tokens were not revoked")
    else:
        try:
            me = hub.whoami()
            user = me["name"]
            agent = [t for t in hub.tokens(user) if AGENT_SCOPE in t.get("scopes", ())]
            gate.revoke_tokens([t["id"] for t in agent])
            revoked = len(agent)
            for token in agent:
                if token["id"] == me.get("token_id"):
                    continue  # the token doing the stop: refused by the endpoint, kept at the hub
                try:
                    hub.delete_token(user, token["id"])
                    deleted += 1
                except HubAPIError as exc:
                    errors.append(f"token {token['id']} not deleted at the hub: {exc}")
        except HubAPIError as exc:
            errors.append(f"agent tokens not revoked: {exc}")
    return {
        "tokens_revoked": revoked,
        "work_cancelled": report.work_cancelled,
        "jobs_cancelled": report.jobs_cancelled,
        "seconds": round(time.monotonic() - began, 3),
        "tokens_deleted": deleted,
        "processes": report.processes,
        "errors": errors,
    }
