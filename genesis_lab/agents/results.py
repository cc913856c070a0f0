"""What a campaign found: best-so-far, the Pareto front, a convergence plot, and a dataset.

These work on trial records (as the store keeps them) and the campaign's objective.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from genesis_lab.agents.objective import Objective
from genesis_lab.errors import CampaignError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Trial", "best", "best_so_far", "convergence_plot", "pareto_front", "to_dataset"]


class Trial(dict):
    """A stored trial record (a dict, as the store keeps it) with ``.params`` and ``.value``.

    ``t["values"]`` holds every objective value (``.values`` stays the dict method).

    >>> t = Trial({"number": 3, "params": {"x": 0.5}, "values": [1.25], "status": "complete"})
    >>> t.params, t.value, t["values"]
    ({'x': 0.5}, 1.25, [1.25])
    """

    @property
    def params(self) -> dict[str, Any]:
        return self["params"]

    @property
    def value(self) -> float:
        """The single objective value; with several objectives use ``trial["values"]``."""
        vals = self["values"]
        if len(vals) != 1:
            raise CampaignError(f"trial {self.get('number')} has {len(vals)} objective values; "
                                "use trial['values']")  # fmt: skip
        return vals[0]

    @property
    def number(self) -> int:
        return self["number"]


def _usable(trials: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [t for t in trials if t["status"] == "complete" and t.get("feasible", True)]


def _signed(trial: Mapping[str, Any], objective: Objective) -> np.ndarray:
    return np.array([s.sign() * v for s, v in zip(objective.targets, trial["values"], strict=True)])


def best(trials: Sequence[Mapping[str, Any]], objective: Objective) -> Mapping[str, Any] | None:
    """The best feasible trial of a single-objective campaign (``None`` if there is none).

    >>> o = Objective.parse({"y": "max"})
    >>> best([{"status": "complete", "values": [1.0]}, {"status": "complete", "values": [3.0]}], o)
    {'status': 'complete', 'values': [3.0]}
    """
    if len(objective.targets) != 1:
        raise CampaignError("best() needs one objective; use pareto_front() for several")
    usable = _usable(trials)
    if not usable:
        return None
    return min(usable, key=lambda t: float(_signed(t, objective)[0]))


def best_so_far(trials: Sequence[Mapping[str, Any]], objective: Objective) -> np.ndarray:
    """The best feasible value after each trial, in trial order (NaN before the first one).

    >>> best_so_far([{"status": "complete", "values": [2.0]}, {"status": "failed"},
    ...              {"status": "complete", "values": [1.0]}], Objective.parse("y")).tolist()
    [2.0, 2.0, 1.0]
    """
    if len(objective.targets) != 1:
        raise CampaignError("best_so_far() needs one objective; use pareto_front() for several")
    sign = objective.targets[0].sign()
    out = np.full(len(trials), np.nan)
    current = np.inf
    for i, t in enumerate(trials):
        if t["status"] == "complete" and t.get("feasible", True):
            current = min(current, sign * t["values"][0])
        if np.isfinite(current):
            out[i] = sign * current
    return out


def pareto_front(
    trials: Sequence[Mapping[str, Any]], objective: Objective
) -> list[Mapping[str, Any]]:
    """The feasible trials no other feasible trial dominates, sorted by the first objective.

    >>> o = Objective.parse({"a": "min", "b": "min"})
    >>> ts = [{"status": "complete", "values": v} for v in ([1, 3], [2, 2], [3, 3], [3, 1])]
    >>> [t["values"] for t in pareto_front(ts, o)]
    [[1, 3], [2, 2], [3, 1]]
    """
    usable = _usable(trials)
    if not usable:
        return []
    pts = np.stack([_signed(t, objective) for t in usable])  # minimise every column
    # i is dominated if some j is <= on every objective and < on one
    le = (pts[None, :, :] <= pts[:, None, :]).all(axis=2)
    lt = (pts[None, :, :] < pts[:, None, :]).any(axis=2)
    dominated = (le & lt).any(axis=1)
    front = [usable[i] for i in np.flatnonzero(~dominated)]
    return sorted(front, key=lambda t: tuple(_signed(t, objective)))


def convergence_plot(
    trials: Sequence[Mapping[str, Any]], objective: Objective, title: str = ""
) -> Any:
    """A holoviews overlay: each trial's value (points) and the best so far (a step curve).

    >>> plot = convergence_plot([{"status": "complete", "values": [1.0]}], Objective.parse("y"))
    """
    import holoviews as hv

    if not hv.Store.renderers:  # options need a plotting backend, as hv.extension("bokeh") loads
        import holoviews.plotting.bokeh

    name = objective.targets[0].name
    xs = np.arange(1, len(trials) + 1)
    values = np.array(
        [t["values"][0] if t["status"] == "complete" else np.nan for t in trials], dtype=float
    )
    curve = hv.Curve((xs, best_so_far(trials, objective)), "trial", name, label="best so far")
    points = hv.Scatter((xs, values), "trial", name, label="trial")
    return (points * curve.opts(interpolation="steps-post")).opts(
        title=title or f"Convergence of {name} ({objective.targets[0].direction})"
    )


def to_dataset(
    trials: Sequence[Mapping[str, Any]],
    objective: Objective,
    *,
    parameter_names: Sequence[str],
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """The campaign as an ``xarray.Dataset`` along ``trial`` with provenance in ``attrs``."""
    import xarray as xr

    n = len(trials)
    data: dict[str, Any] = {}
    for name in parameter_names:
        values = [t["params"].get(name) for t in trials]
        data[name] = ("trial", np.asarray(values))
    outputs = sorted({k for t in trials for k in (t.get("outputs") or {})})
    for name in outputs:
        data[name] = (
            "trial",
            np.array([(t.get("outputs") or {}).get(name, np.nan) for t in trials], dtype=float),
        )
    data["status"] = ("trial", np.array([t["status"] for t in trials], dtype=str))
    data["feasible"] = ("trial", np.array([bool(t.get("feasible", False)) for t in trials]))
    data["duration_s"] = ("trial", np.array([t.get("duration_s", np.nan) for t in trials], float))
    data["round"] = ("trial", np.array([t.get("round", -1) for t in trials], dtype=np.int64))
    data["error"] = ("trial", np.array([t.get("error") or "" for t in trials], dtype=str))
    if len(objective.targets) == 1 and n:
        data["best_so_far"] = ("trial", best_so_far(trials, objective))
    ds = xr.Dataset(data, coords={"trial": np.array([t["number"] for t in trials], np.int64)})
    for name in parameter_names:
        ds[name].attrs["role"] = "parameter"
    for name in outputs:
        ds[name].attrs["role"] = "output"
    for t in objective.targets:
        if t.name in ds:
            ds[t.name].attrs["objective"] = t.direction
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    return ds
