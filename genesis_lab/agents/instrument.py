"""Experiments that are not simulators: an ``Instrument`` adapter (submit, poll, result).

An automated laboratory implements the three methods; ``SimulatedInstrument`` stands in for
one, with measurement noise, latency and occasional failures.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from genesis_lab.errors import CampaignError

__all__ = ["Instrument", "InstrumentError", "JobStatus", "SimulatedInstrument"]

JobStatus = Literal["queued", "running", "done", "failed"]


class InstrumentError(CampaignError):
    """An instrument reports that a measurement failed."""


@runtime_checkable
class Instrument(Protocol):
    """An automated experiment: submit a point, poll its status, fetch its result."""

    def submit(self, params: Mapping[str, Any]) -> str:
        """Start a measurement; returns a job id."""
        ...

    def poll(self, job: str) -> JobStatus:
        """``queued``, ``running``, ``done`` or ``failed``."""
        ...

    def result(self, job: str) -> Mapping[str, float]:
        """Outputs of a ``done`` job; raises :class:`InstrumentError` for a ``failed`` one."""
        ...


@dataclass
class _Job:
    params: dict[str, Any]
    started: float
    ready_at: float
    failed: bool
    outputs: dict[str, float] | None = None


class SimulatedInstrument:
    """An instrument that measures ``function(params)`` with noise, after a delay.

    ``noise`` is the standard deviation added to every output; ``latency`` is a fixed delay or a
    (low, high) range in seconds; ``failure_rate`` is the chance a measurement fails;
    ``capacity`` is how many jobs run at once (the others wait in a queue).

    >>> inst = SimulatedInstrument(lambda p: {"y": p["x"] ** 2}, noise=0.0, latency=0.0, seed=0)
    >>> job = inst.submit({"x": 3.0}); inst.poll(job), inst.result(job)
    ('done', {'y': 9.0})
    """

    def __init__(
        self,
        function: Callable[[Mapping[str, Any]], Mapping[str, float]],
        *,
        noise: float = 0.0,
        latency: float | tuple[float, float] = 0.05,
        failure_rate: float = 0.0,
        capacity: int | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if noise < 0 or not 0 <= failure_rate <= 1:
            raise CampaignError("SimulatedInstrument: noise must be >= 0, failure_rate in [0, 1]")
        self.function = function
        self.noise = float(noise)
        self.latency = (latency, latency) if isinstance(latency, int | float) else latency
        self.failure_rate = float(failure_rate)
        self.capacity = capacity
        self._rng = np.random.default_rng(seed)
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count()
        self.submitted = 0

    def submit(self, params: Mapping[str, Any]) -> str:
        job = f"job-{next(self._ids)}"
        now = self._clock()
        lo, hi = self.latency
        delay = float(self._rng.uniform(lo, hi)) if hi > lo else float(lo)
        if self.capacity is not None:
            busy = sorted(j.ready_at for j in self._jobs.values() if j.ready_at > now)
            if len(busy) >= self.capacity:
                now = busy[len(busy) - self.capacity]
        failed = bool(self._rng.random() < self.failure_rate)
        self._jobs[job] = _Job(dict(params), now, now + delay, failed)
        self.submitted += 1
        return job

    def _job(self, job: str) -> _Job:
        if job not in self._jobs:
            raise CampaignError(f"the instrument has no job {job!r}")
        return self._jobs[job]

    def poll(self, job: str) -> JobStatus:
        j = self._job(job)
        now = self._clock()
        if now < j.started:
            return "queued"
        if now < j.ready_at:
            return "running"
        return "failed" if j.failed else "done"

    def result(self, job: str) -> dict[str, float]:
        j = self._job(job)
        status = self.poll(job)
        if status == "failed":
            raise InstrumentError(f"measurement {job} failed on the instrument")
        if status != "done":
            raise InstrumentError(f"measurement {job} is still {status}; poll until it is done")
        if j.outputs is None:
            clean = self.function(j.params)
            j.outputs = {
                k: float(v) + (float(self._rng.normal(0, self.noise)) if self.noise else 0.0)
                for k, v in clean.items()
            }
        return dict(j.outputs)
