"""``dataset_describe``: what a dataset holds and summary statistics of a selection, with at most
``mcp.max_value_bytes`` of raw values."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from genesis_lab.mcp import arguments as A
from genesis_lab.mcp.failures import ToolError

__all__ = ["describe_dataset"]

_ATTR_CHARS = 500


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value[:_ATTR_CHARS] if isinstance(value, str) else value
    return str(value)[:_ATTR_CHARS]


def _select(ds: Any, selection: dict[str, Any]) -> Any:
    for dim, spec in selection.items():
        field = f"selection.{dim}"
        if dim not in ds.dims:
            raise ToolError(
                field,
                f"the dataset has no dimension {dim!r}",
                allowed=", ".join(map(str, ds.dims)) or "(no dimensions)",
            )
        try:
            if isinstance(spec, A.Slice):
                ds = ds.sel({dim: slice(spec.start, spec.stop)})
            elif (
                dim in ds.indexes
                and ds.indexes[dim].dtype.kind in "iuf"
                and not isinstance(spec, str)
            ):
                ds = ds.sel({dim: [spec]}, method="nearest")
            else:
                ds = ds.sel({dim: [spec]})
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise ToolError(
                field,
                f"cannot select {spec!r} ({type(exc).__name__})",
                allowed="a label of the dimension or {start, stop}",
                fix="see dims and coords in dataset_describe without selection",
            ) from None
    return ds


def _stats(da: Any) -> dict[str, Any]:
    if da.dtype.kind not in "iufb":
        return {"count": int(da.size)}
    values = np.asarray(da.values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"count": 0}
    return {
        "count": int(finite.size),
        "min": float(finite.min()),
        "max": float(finite.max()),
        "mean": float(finite.mean()),
        "std": float(finite.std()),
    }


def _sample(ds: Any, names: list[str], budget: int) -> dict[str, list[Any]]:
    """The first values of each variable, as many as fit in ``budget`` bytes of JSON in all."""
    out: dict[str, list[Any]] = {}
    for name in names:
        flat = np.asarray(ds[name].values).ravel()
        taken: list[Any] = []
        out[name] = taken
        for value in flat[:1000]:
            taken.append(_jsonable(value))
            if len(json.dumps(out).encode()) > budget:
                taken.pop()
                break
        if not taken:
            del out[name]
            break
    return out


def describe_dataset(a: A.DatasetDescribe, *, max_value_bytes: int) -> dict[str, Any]:
    """The description of ``a.id`` through the SDK (clearances are the service's)."""
    from genesis_lab.data import open_dataset

    ds = open_dataset(a.id)
    names = [str(v) for v in ds.data_vars]
    if a.variables is not None:
        unknown = [v for v in a.variables if v not in names]
        if unknown:
            raise ToolError(
                "variables",
                f"no variable {unknown[0]!r} in {a.id}",
                allowed=", ".join(names) or "(none)",
            )
        names = list(a.variables)
    sel = _select(ds[names], a.selection or {})
    coords = {
        str(c): {
            "dims": list(map(str, sel[c].dims)),
            "units": sel[c].attrs.get("units", ""),
            **{k: v for k, v in _stats(sel[c]).items() if k in ("count", "min", "max")},
        }
        for c in sel.coords
    }
    variables = {
        name: {
            "dims": list(map(str, sel[name].dims)),
            "dtype": str(sel[name].dtype),
            "units": sel[name].attrs.get("units", ""),
            "long_name": sel[name].attrs.get("long_name", ""),
            "stats": _stats(sel[name]),
        }
        for name in names
    }
    values = _sample(sel, names, max_value_bytes)
    return {
        "id": a.id,
        "dims": {str(k): int(v) for k, v in sel.sizes.items()},
        "coords": coords,
        "variables": variables,
        "attrs": {str(k): _jsonable(v) for k, v in ds.attrs.items()},
        "values": values,
        "values_bytes": len(json.dumps(values).encode()),
        "max_value_bytes": max_value_bytes,
    }
