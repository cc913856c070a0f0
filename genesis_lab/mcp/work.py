"""Costly tool calls: the human gate's estimate and decision, then the work, inline or as a job.

``simulator_run`` and ``model_predict`` answer inline when the gate allows them; ``sweep_start``,
``campaign_start`` and ``challenge_run`` return a handle at once and run in a thread. A call the
gate holds becomes a job in state ``pending-approval`` that nothing runs until
``job_status`` finds it approved. Every running job is registered with the gate, so
``genesis-lab agent stop`` can cancel it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from genesis_lab.mcp import arguments as A
from genesis_lab.mcp.context import AgentContext
from genesis_lab.mcp.failures import ToolError, explain
from genesis_lab.mcp.jobs import FINAL_STATES, Job, JobStore

__all__ = ["SECONDS_PER_POINT", "Jobs", "estimate"]

SECONDS_PER_POINT = 0.05
"""Core-seconds one simulator point is reckoned at for the gate's estimate."""
CHALLENGE_CORE_HOURS = 0.05
"""What a challenge run (one notebook kernel, a few minutes) is reckoned at."""

PROCESS = uuid.uuid4().hex
"""This server process; a running job recorded by another one is resumed here."""

_LIVE: dict[str, threading.Event] = {}
_LIVE_LOCK = threading.Lock()

_LONG = ("sweep_start", "campaign_start", "challenge_run")
_FIELD = {
    "simulator_run": "parameters",
    "model_predict": "inputs",
    "sweep_start": "space",
    "campaign_start": "budget",
    "challenge_run": "parameters",
}


MAX_SWEEP_POINTS = 100_000
"""Most points one sweep_start may ask for."""


def _sweep_space(a: Any) -> dict[str, Any]:
    """The tool's JSON space as :func:`genesis_lab.simulators.sweep.sweep` takes it: a numeric
    list of 2 or 3 items is a range (tuple), any other list the values themselves."""
    return {
        k: tuple(v)
        if isinstance(v, list)
        and len(v) in (2, 3)
        and not any(isinstance(x, str | bool) for x in v)
        else v
        for k, v in a.space.items()
    }


def _points(tool: str, a: Any) -> int:
    if tool == "sweep_start":
        from genesis_lab.simulators.registry import get_simulator
        from genesis_lab.simulators.sweep import expand_space

        sim = get_simulator(a.simulator)
        space = _sweep_space(a)
        if a.method == "grid":
            total = 1
            for v in space.values():
                if isinstance(v, tuple) and len(v) == 3 and isinstance(v[2], int):
                    total *= max(v[2], 1)
                elif isinstance(v, tuple | list):
                    total *= max(len(v), 1)
            if total > MAX_SWEEP_POINTS:
                raise ToolError(
                    "space",
                    f"the grid has {total} points",
                    allowed=f"at most {MAX_SWEEP_POINTS} points",
                    fix="use fewer values per parameter, or method lhs with n",
                )
        points, _, _ = expand_space(sim, space, method=a.method, n=a.n, seed=a.seed)
        return len(next(iter(points.values()))) if points else 1
    if tool == "campaign_start":
        return a.budget
    if tool == "model_predict":
        return max(len(v) for v in a.inputs.values())
    return 1


def estimate(tool: str, a: Any) -> Any:
    """The gate's :class:`Estimate` of a call: core-hours, and whether it submits batch jobs."""
    from genesis_lab.mcp.gate import Estimate

    if tool == "challenge_run":
        return Estimate(core_hours=CHALLENGE_CORE_HOURS, batch=False)
    return Estimate(core_hours=_points(tool, a) * SECONDS_PER_POINT / 3600.0, batch=False)


class Jobs:
    """The gate and the job store of one agent context."""

    def __init__(self, context: AgentContext) -> None:
        self.context = context
        self.store = JobStore(context.jobs_dir())

    # -- admission ---------------------------------------------------------------------------
    def gated(self, tool: str, a: BaseModel, notify: Any) -> dict[str, Any]:
        """Ask the gate, then run inline, start a job, hold it for approval, or refuse."""
        self._check(tool, a)
        args = a.model_dump(mode="json")
        gate = self.context.gate
        decision = gate.admit(tool, args, estimate(tool, a))
        if decision.status == "refused":
            raise ToolError(
                _FIELD[tool],
                f"refused by the agent limits: {decision.reason}",
                fix="ask for less, or ask the user to raise the allocation's agent "
                "limits in the site file",
            )
        if decision.status == "pending":
            job = self.store.create(
                tool,
                args,
                state="pending-approval",
                request_id=decision.request_id,
                reason=decision.reason,
                total=_points(tool, a) if tool in _LONG else None,
            )
            if tool == "campaign_start":
                self.store.update(job, campaign=a.name or job.handle)
            return self._pending_answer(job)
        if tool in _LONG:  # its total known from the start: a status read at once reports it
            job = self.store.create(
                tool, args, state="running", request_id=None, total=_points(tool, a)
            )
            if tool == "campaign_start":
                self.store.update(job, campaign=a.name or job.handle)
            self._start(job)
            if notify is not None:
                notify(0.0, None, f"{tool} started as {job.handle}")
            return self._answer(job)
        t0 = time.perf_counter()
        result = _INLINE[tool](a)
        gate.charge((time.perf_counter() - t0) / 3600.0)
        return result

    def _check(self, tool: str, a: Any) -> None:
        """Refuse a call the work would refuse, before the gate counts it."""
        if tool in ("simulator_run", "sweep_start", "campaign_start"):
            from genesis_lab.simulators.registry import get_simulator

            sim = get_simulator(a.simulator)
            if tool == "simulator_run":
                sim.validate(a.parameters)
            elif tool == "sweep_start":
                _points(tool, a)
            else:
                _campaign(a)
        elif tool == "challenge_run":
            from genesis_lab.pipelines import get_challenge

            get_challenge(a.challenge).validate_parameters(a.parameters)
        elif tool == "model_predict":
            _predict(a, check_only=True)

    @staticmethod
    def _pending_answer(job: Job) -> dict[str, Any]:
        rid = job.get("request_id")
        return {
            "handle": job.handle,
            "state": job["state"],
            "request_id": rid,
            "reason": job.get("reason", ""),
            "message": f"{job['tool']} is held for the user's approval ({job.get('reason', '')}). "
            f"Nothing of it runs before then. The user approves with `genesis-lab agent approve "
            f"{rid}` (or rejects with `genesis-lab agent reject {rid}`) or in the Genesis side "
            f"panel; call job_status with handle {job.handle!r} to follow it.",
        }

    # -- running -----------------------------------------------------------------------------
    def _start(self, job: Job) -> None:
        cancel = threading.Event()
        key = str(self.store.folder / job.handle)
        with _LIVE_LOCK:
            _LIVE[key] = cancel
        self.store.update(job, process=PROCESS, started=time.time())

        def stop() -> None:
            cancel.set()
            self.store.update(job, state="cancelled", message="stopped")

        self.context.gate.register_work(job.handle, stop, [])
        threading.Thread(
            target=self._run, args=(job, cancel, key), daemon=True, name=f"mcp-{job.handle}"
        ).start()

    def _run(self, job: Job, cancel: threading.Event, key: str) -> None:
        t0 = time.perf_counter()
        last = [0.0]

        def progress(done: float, total: float | None, message: str) -> None:
            now = time.perf_counter()
            if now - last[0] > 0.2 or (total is not None and done >= total):
                last[0] = now
                self.store.update(job, progress=done, total=total, message=message)

        try:
            a = A.ARGUMENTS[job["tool"]].model_validate(job["arguments"])
            long_work = _LONG_WORK.get(job["tool"])
            if long_work is None:
                result = _INLINE[job["tool"]](a)
            else:
                result = long_work(a, job, progress, cancel, self.store.folder)
            state = "cancelled" if cancel.is_set() else "done"
            self.store.update(job, state=state, result=result)
        except Exception as exc:
            try:
                text = explain(exc, id_field="arguments", param_field=_FIELD[job["tool"]]).text()
            except Exception:
                text = f"{type(exc).__name__}: {exc}"
            self.store.update(job, state="cancelled" if cancel.is_set() else "failed", error=text)
        finally:
            with _LIVE_LOCK:
                _LIVE.pop(key, None)
            gate = self.context.gate
            gate.charge((time.perf_counter() - t0) / 3600.0)
            gate.unregister_work(job.handle)

    def _live(self, job: Job) -> bool:
        with _LIVE_LOCK:
            return str(self.store.folder / job.handle) in _LIVE

    def lookup(self, handle: str, field: str = "handle") -> Job:
        """The job, after moving it on: an approved held job starts, a rejected one ends, and a
        job another (stopped) server was running resumes here."""
        job = self.store.get(handle)
        if job is None:
            raise ToolError(
                field,
                f"no job with handle {handle!r} for {self.context.user}",
                fix="use the handle a long tool returned",
            )
        if job["state"] == "pending-approval":
            gate = self.context.gate
            verdict = gate.decision(job["request_id"])
            if verdict == "approved":
                a = A.ARGUMENTS[job["tool"]].model_validate(job["arguments"])
                again = gate.admit(job["tool"], job["arguments"], estimate(job["tool"], a))
                if again.status == "allowed":
                    self.store.update(job, state="running", approved=True)
                    self._start(job)
                elif again.status == "refused":
                    self.store.update(job, state="rejected", error=again.reason)
            elif verdict == "rejected":
                self.store.update(job, state="rejected", error="rejected by the user")
        elif job["state"] == "running" and not self._live(job) and job.get("process") != PROCESS:
            self.store.update(job, resumed=int(job.get("resumed", 0)) + 1)
            self._start(job)
        return job

    def _answer(self, job: Job) -> dict[str, Any]:
        if job["state"] == "pending-approval":
            return self._pending_answer(job)
        keys = (
            "handle",
            "tool",
            "state",
            "progress",
            "total",
            "message",
            "result",
            "error",
            "created",
            "updated",
            "request_id",
            "resumed",
            "campaign",
        )
        return {k: job.get(k) for k in keys if job.get(k) is not None}

    def status(self, handle: str, *, wait_seconds: float = 0, notify: Any = None) -> dict[str, Any]:
        """A job's state; with ``wait_seconds``, waits for it to end, reporting progress."""
        job = self.lookup(handle)
        deadline = time.monotonic() + wait_seconds
        seen = None
        while True:
            job = self.store.get(handle) or job
            if notify is not None and (job.get("progress"), job.get("message")) != seen:
                seen = (job.get("progress"), job.get("message"))
                notify(float(job.get("progress") or 0), job.get("total"), job.get("message", ""))
            if job["state"] in FINAL_STATES or job["state"] == "pending-approval":
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return self._answer(job)

    def cancel(self, job: Job) -> None:
        with _LIVE_LOCK:
            event = _LIVE.get(str(self.store.folder / job.handle))
        if event is not None:
            event.set()
        elif job["state"] not in FINAL_STATES:
            self.store.update(job, state="cancelled")

    # -- campaigns ---------------------------------------------------------------------------
    def _campaign_job(self, ref: str) -> Job:
        job = self.store.get(ref) if ref.startswith("campaign-") else None
        if job is None:
            found = self.store.find(tool="campaign_start", campaign=ref)
            job = found[-1] if found else None
        if job is None or job["tool"] != "campaign_start":
            raise ToolError(
                "campaign",
                f"no campaign {ref!r} started by {self.context.user}'s agent",
                fix="give the handle or the name campaign_start returned",
            )
        return self.lookup(job.handle, field="campaign")

    def campaign_status(self, ref: str) -> dict[str, Any]:
        """The campaign's job and its stored status (trials, best)."""
        from genesis_lab.agents.campaign import Campaign
        from genesis_lab.agents.store import CampaignStore

        job = self._campaign_job(ref)
        out = self._answer(self.store.get(job.handle) or job)
        name = job.get("campaign")
        if name and CampaignStore(name).exists():
            out["status"] = Campaign.open(name).status()
        return out

    def campaign_stop(self, ref: str) -> dict[str, Any]:
        """Stop the campaign after its current trial; its trials stay in the store."""
        job = self._campaign_job(ref)
        self.cancel(job)
        deadline = time.monotonic() + 10
        while self._live(job) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.campaign_status(job.handle)


def _campaign(a: A.CampaignStart, name: str | None = None) -> Any:
    from dataclasses import replace

    from genesis_lab.agents import Campaign, Space
    from genesis_lab.simulators.registry import get_simulator

    sim = get_simulator(a.simulator)
    names = [p.name for p in sim.parameters]
    outputs = [o.name for o in sim.outputs]
    for field, given, known in (("objective", a.objective, outputs),
                                ("constraints", a.constraints or {}, outputs),
                                ("fixed", a.fixed or {}, names),
                                ("parameters", a.parameters or {}, names)):  # fmt: skip
        for key in given:
            if key not in known:
                what = "output" if known is outputs else "parameter"
                raise ToolError(f"{field}.{key}", f"{sim.id} has no {what} {key!r}",
                                allowed=", ".join(known), fix="use simulator_describe")  # fmt: skip
    fixed = dict(a.fixed or {})
    include = list(a.parameters) if a.parameters else None
    space = Space.from_simulator(sim, include=include, fixed=fixed)
    dims = list(space.dimensions)
    for key, rng in (a.parameters or {}).items():
        if rng:
            if len(rng) != 2 or not rng[0] < rng[1]:
                raise ToolError(
                    f"parameters.{key}",
                    f"{rng!r} is not a range",
                    allowed="[] or [lo, hi] with lo < hi",
                )
            i = space.names.index(key)
            dims[i] = replace(dims[i], bounds=(float(rng[0]), float(rng[1])))
    space = Space(tuple(dims), space.fixed)
    constraints = {k: (c.op, float(c.bound)) for k, c in (a.constraints or {}).items()}
    return Campaign(
        space,
        dict(a.objective),
        a.policy,
        batch_size=a.batch_size,
        budget=a.budget,
        experiment=sim,
        constraints=constraints or None,
        name=name,
        seed=a.seed,
    )


class _Stopped(Exception):
    """Raised between two trials to stop a campaign (its trials stay in the store)."""


def _run_campaign(a: A.CampaignStart, job: Job, progress: Any, cancel: threading.Event, _: Path):
    campaign = _campaign(a, job["campaign"])  # an existing store resumes
    done = len(campaign.trials)
    progress(done, a.budget, f"{done}/{a.budget} trials")

    def on_trial(record: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        progress(done, a.budget, f"{done}/{a.budget} trials")
        if cancel.is_set():
            raise _Stopped

    if not cancel.is_set():
        with contextlib.suppress(_Stopped):
            campaign.run(on_trial=on_trial)
    return campaign.status()


def _run_sweep(a: A.SweepStart, job: Job, progress: Any, cancel: threading.Event, folder: Path):
    from genesis_lab.simulators.registry import get_simulator
    from genesis_lab.simulators.sweep import sweep

    sim = get_simulator(a.simulator)
    space = _sweep_space(a)
    total = _points("sweep_start", a)
    progress(0, total, f"0/{total} points")
    ds = sweep(sim, space, method=a.method, n=a.n, seed=a.seed, progress=False)
    progress(total, total, f"{total}/{total} points")
    from genesis_lab.fileio import atomic_path

    path = str(folder / f"{job.handle}.nc")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    outputs = {}
    for name in sim.scalar_outputs():
        if name in ds:
            v = ds[name].values
            outputs[name] = {
                "min": float(v.min()),
                "max": float(v.max()),
                "mean": float(v.mean()),
                "unit": ds[name].attrs.get("units", ""),
            }
    return {
        "points": total,
        "dims": {str(k): int(n) for k, n in ds.sizes.items()},
        "outputs": outputs,
        "path": path,
    }


def _run_challenge(a: A.ChallengeRun, job: Job, progress: Any, cancel: threading.Event, _: Path):
    from genesis_lab.pipelines.runner import describe, run

    progress(0, 1, f"running challenge {a.challenge}")
    result = run(a.challenge, dict(a.parameters), force=a.force)
    progress(1, 1, f"challenge {a.challenge} finished")
    return describe(result)


def _simulator_run(a: A.SimulatorRun) -> dict[str, Any]:
    import json

    from genesis_lab.simulators.registry import get_simulator

    sim = get_simulator(a.simulator)
    ds = sim.run(dict(a.parameters), seed=a.seed)
    outputs = {
        name: {"value": float(ds[name]), "unit": ds[name].attrs.get("units", "")}
        for name in sim.scalar_outputs()
        if name in ds and ds[name].ndim == 0
    }
    return {
        "simulator": sim.id,
        "version": sim.version,
        "seed": a.seed,
        "parameters": json.loads(ds.attrs["parameters"]),
        "outputs": outputs,
    }


def _predict(a: A.ModelPredict, check_only: bool = False) -> dict[str, Any]:
    import numpy as np

    from genesis_lab.models.registry import load_model

    model = load_model(a.model)
    features = [f["name"] for f in model.card.features]
    missing = [f for f in features if f not in a.inputs]
    extra = [f for f in a.inputs if f not in features]
    if missing or extra:
        bad = (missing or extra)[0]
        raise ToolError(
            f"inputs.{bad}",
            "is missing" if missing else "is not a feature",
            allowed=f"the model's features {', '.join(features)}",
        )
    lengths = {len(v) for v in a.inputs.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ToolError(
            "inputs",
            f"the lists have lengths {sorted(lengths)}",
            allowed="one non-empty list per feature, all of the same length",
        )
    if check_only:
        return {}
    X = {f: np.asarray(a.inputs[f], dtype=float) for f in features}
    if a.return_std:
        mean, std = model.predict(X, return_std=True)
        return {
            "model": a.model,
            "target": model.card.target,
            "mean": np.asarray(mean).tolist(),
            "std": np.asarray(std).tolist(),
        }
    return {
        "model": a.model,
        "target": model.card.target,
        "prediction": np.asarray(model.predict(X)).tolist(),
    }


_INLINE = {"simulator_run": _simulator_run, "model_predict": _predict}
_LONG_WORK = {
    "sweep_start": _run_sweep,
    "campaign_start": _run_campaign,
    "challenge_run": _run_challenge,
}
