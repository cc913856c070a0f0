"""Running a batch of trials: in this process, on a dask cluster (futures), or on an instrument.

Every runner yields each trial's outcome as soon as it finishes, so the campaign stores it
at once; an exception in an experiment becomes a failed outcome, never a stopped campaign.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from genesis_lab.agents.instrument import Instrument
from genesis_lab.agents.objective import outputs_of

__all__ = [
    "DaskRunner",
    "InstrumentRunner",
    "LocalRunner",
    "Outcome",
    "as_experiment",
    "describe_experiment",
]


@dataclass
class Outcome:
    """What happened to one trial."""

    outputs: dict[str, float] | None
    error: str | None
    started: str
    finished: str
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _SimulatorExperiment:
    """A simulator as an experiment: ``run(fixed | params, seed)`` and its scalar outputs."""

    def __init__(self, simulator: Any, fixed: Mapping[str, Any], seed: int | None) -> None:
        self.simulator = simulator
        self.fixed = dict(fixed)
        self.seed = seed

    def __call__(self, params: Mapping[str, Any]) -> dict[str, float]:
        return outputs_of(self.simulator.run({**self.fixed, **params}, seed=self.seed))


class _FunctionExperiment:
    def __init__(self, function: Callable[..., Any], fixed: Mapping[str, Any]) -> None:
        self.function = function
        self.fixed = dict(fixed)

    def __call__(self, params: Mapping[str, Any]) -> dict[str, float]:
        return outputs_of(self.function({**self.fixed, **params}))


def as_experiment(
    obj: Any, fixed: Mapping[str, Any] | None = None, seed: int | None = None
) -> Callable[[Mapping[str, Any]], dict[str, float]]:
    """A callable ``params -> {output: value}`` from a simulator or a function.

    >>> as_experiment(lambda p: {"y": p["x"] + 1})({"x": 1.0})
    {'y': 2.0}
    """
    fixed = fixed or {}
    if hasattr(obj, "run") and hasattr(obj, "parameters"):
        return _SimulatorExperiment(obj, fixed, seed)
    if callable(obj):
        return _FunctionExperiment(obj, fixed) if fixed else _wrap(obj)
    raise TypeError(f"{obj!r} is neither a simulator, an instrument nor a callable")


def _wrap(fn: Callable[..., Any]) -> Callable[[Mapping[str, Any]], dict[str, float]]:
    return _FunctionExperiment(fn, {})


def describe_experiment(obj: Any) -> str:
    """A short text naming the experiment, kept in the campaign's provenance."""
    sid = getattr(obj, "id", None)
    if sid:
        return f"simulator {sid} v{getattr(obj, 'version', '?')}"
    if isinstance(obj, Instrument):
        return f"instrument {type(obj).__name__}"
    name = getattr(obj, "__qualname__", type(obj).__qualname__)
    return f"function {getattr(obj, '__module__', '?')}.{name}"


def execute(experiment: Callable[[Mapping[str, Any]], Any], params: Mapping[str, Any]) -> Outcome:
    """Run one trial, turning an exception into a failed outcome (also used on dask workers)."""
    started = _now()
    t0 = time.perf_counter()
    try:
        outputs = outputs_of(experiment(params))
        error = None
    except Exception as exc:
        outputs = None
        tb = traceback.format_exception_only(type(exc), exc)
        error = "".join(tb).strip()
    return Outcome(outputs, error, started, _now(), time.perf_counter() - t0)


class LocalRunner:
    """Trials one after the other in this process."""

    name = "local"

    def __init__(self, experiment: Callable[[Mapping[str, Any]], Any]) -> None:
        self.experiment = experiment

    def run(self, batch: Sequence[tuple[Any, dict[str, Any]]]) -> Iterator[tuple[Any, Outcome]]:
        for key, params in batch:
            yield key, execute(self.experiment, params)


class DaskRunner:
    """Trials as futures on a ``distributed.Client``, yielded in the order they finish."""

    name = "dask"

    def __init__(self, experiment: Callable[[Mapping[str, Any]], Any], client: Any) -> None:
        self.experiment = experiment
        self.client = client
        self._scattered: Any = None

    def run(self, batch: Sequence[tuple[Any, dict[str, Any]]]) -> Iterator[tuple[Any, Outcome]]:
        from distributed import as_completed

        if self._scattered is None:
            self._scattered = self.client.scatter(self.experiment, broadcast=True, hash=False)
        futures = {
            self.client.submit(execute, self._scattered, params, pure=False): key
            for key, params in batch
        }
        for future in as_completed(futures, loop=self.client.loop):
            key = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died or the task was lost
                outcome = Outcome(None, f"{type(exc).__name__}: {exc}", _now(), _now(), 0.0)
            yield key, outcome


class InstrumentRunner:
    """Trials submitted to an instrument together, then polled until each is done or failed."""

    name = "instrument"

    def __init__(self, instrument: Instrument, poll_interval: float = 0.01) -> None:
        self.instrument = instrument
        self.poll_interval = poll_interval

    def run(self, batch: Sequence[tuple[Any, dict[str, Any]]]) -> Iterator[tuple[Any, Outcome]]:
        waiting: dict[str, tuple[Any, str, float]] = {}
        for key, params in batch:
            t0 = time.perf_counter()
            started = _now()
            try:
                job = self.instrument.submit(params)
            except Exception as exc:
                yield key, Outcome(None, f"submit failed: {exc}", started, _now(), 0.0)
                continue
            waiting[job] = (key, started, t0)
        while waiting:
            for job in list(waiting):
                status = self.instrument.poll(job)
                if status not in ("done", "failed"):
                    continue
                key, started, t0 = waiting.pop(job)
                outputs, error = None, None
                try:
                    outputs = outputs_of(self.instrument.result(job))
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                yield (
                    key,
                    Outcome(
                        outputs, error, started, _now(), time.perf_counter() - t0, {"job": job}
                    ),
                )
            if waiting:
                time.sleep(self.poll_interval)
