"""Turn a catalog dataset, a sweep or a data frame into a feature matrix and a target vector.

A sweep's swept parameters are dimensions (or coordinates of a ``sample`` dimension); both
broadcast against the target, so every grid point becomes one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genesis_lab.errors import ModelError

__all__ = ["Table", "as_table"]


@dataclass
class Table:
    """Rows of features and a target, with units and where they came from."""

    X: np.ndarray
    y: np.ndarray
    features: list[str]
    target: str
    units: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)

    def sha256(self) -> str:
        """Checksum of the exact numbers trained on (features, then target, float64 bytes)."""
        h = hashlib.sha256()
        h.update(",".join([*self.features, self.target]).encode())
        h.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.y, dtype=np.float64).tobytes())
        return h.hexdigest()


def _numeric(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "iuf":
        raise ModelError(
            f"column {name!r} has dtype {arr.dtype} and cannot be a model input; "
            "choose numeric features and target"
        )
    return arr.astype(np.float64)


def as_table(data: Any, target: str, features: Sequence[str] | None = None) -> Table:
    """A :class:`Table` from an ``xarray.Dataset``, a ``pandas.DataFrame`` or a catalog id.

    Without ``features``, a Dataset's dimensions that have coordinates (a grid sweep) or the
    coordinates along its one dimension (a sample sweep or a table) are used.

    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"y": (("a", "b"), np.ones((2, 3)))}, coords={"a": [0, 1], "b": [0, 1, 2]})
    >>> as_table(ds, "y").X.shape
    (6, 2)
    """
    source: dict[str, Any] = {}
    if isinstance(data, str):
        from genesis_lab.data import open_dataset

        source = {"dataset_id": data}
        data = open_dataset(data)
    if hasattr(data, "data_vars"):
        return _from_dataset(data, target, features, source)
    if hasattr(data, "columns"):
        return _from_frame(data, target, features, source)
    raise ModelError(
        f"train() got a {type(data).__name__}; give an xarray Dataset (a catalog dataset or a "
        "sweep), a pandas DataFrame, or a catalog dataset id"
    )


def _from_dataset(ds: Any, target: str, features: Sequence[str] | None, source: dict) -> Table:
    import xarray as xr

    if target not in ds.variables:
        raise ModelError(
            f"target={target!r} is not a variable of the dataset; "
            f"variables: {sorted(map(str, ds.data_vars))}"
        )
    if features is None:
        features = _default_features(ds, target)
    missing = [f for f in features if f not in ds.variables]
    if missing:
        raise ModelError(
            f"features {missing} are not in the dataset; it has {sorted(map(str, ds.variables))}"
        )
    arrays = xr.broadcast(*[ds[f] for f in features], ds[target])
    columns = [
        _numeric(n, a.values).ravel() for n, a in zip([*features, target], arrays, strict=True)
    ]
    X = np.column_stack(columns[:-1])
    y = columns[-1]
    keep = np.isfinite(X).all(axis=1) & np.isfinite(y)
    if keep.sum() < 5:
        raise ModelError(f"only {int(keep.sum())} complete rows for {target!r}; need at least 5")
    units = {
        str(n): str(ds[n].attrs["units"]) for n in [*features, target] if "units" in ds[n].attrs
    }
    keys = ("genesis_id", "simulator_id", "simulator", "simulator_version", "title",
            "sweep_method", "sweep_space", "seed")  # fmt: skip
    for key in keys:
        if key in ds.attrs:
            source.setdefault(key, str(ds.attrs[key]))
    return Table(X[keep], y[keep], list(features), target, units, source)


def _default_features(ds: Any, target: str) -> list[str]:
    dims = [str(d) for d in ds[target].dims]
    found: list[str] = []
    if len(dims) == 1:  # a sample sweep or a table: numeric coordinates along the row dimension
        found = [
            str(c)
            for c, v in ds.coords.items()
            if c != dims[0] and v.dims == (dims[0],) and v.dtype.kind in "iufb"
        ]
    if not found:  # a grid sweep: the swept dimensions
        found = [d for d in dims if d in ds.coords and ds.coords[d].dtype.kind in "iuf"]
    if not found:
        raise ModelError(
            f"could not tell the features of {target!r}; pass features=[...] "
            f"from {sorted(map(str, ds.variables))}"
        )
    return found


def _from_frame(df: Any, target: str, features: Sequence[str] | None, source: dict) -> Table:
    if target not in df.columns:
        raise ModelError(f"target={target!r} is not a column; columns: {list(df.columns)}")
    features = list(features) if features is not None else [c for c in df.columns if c != target]
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise ModelError(f"features {missing} are not columns; columns: {list(df.columns)}")
    X = np.column_stack([_numeric(f, df[f].to_numpy()) for f in features])
    y = _numeric(target, df[target].to_numpy())
    keep = np.isfinite(X).all(axis=1) & np.isfinite(y)
    return Table(X[keep], y[keep], [str(f) for f in features], str(target), {}, source)
