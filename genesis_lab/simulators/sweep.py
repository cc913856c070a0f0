"""``sweep``: many parameter points of a simulator as chunked dask tasks, gathered into xarray.

Each task evaluates a chunk of points with ``run_batch`` (vectorised); chunks are cached on disk
by (simulator id, version, points, seed), so a repeated sweep computes nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genesis_lab.errors import ParameterError
from genesis_lab.fileio import atomic_path
from genesis_lab.settings import get_settings
from genesis_lab.simulators.base import Simulator

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["chunk_points", "expand_space", "sweep"]

METHODS = ("grid", "random", "lhs")
MAX_CHUNK = 5000
TASKS_PER_WORKER = 4


def sweep(
    simulator: Simulator | type[Simulator] | str,
    space: Mapping[str, Any],
    *,
    cluster: Any = None,
    seed: int = 0,
    method: str = "grid",
    n: int | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
    cache: bool = True,
) -> xr.Dataset:
    """Run a simulator over a grid or a sample of its parameter space, as dask tasks.

    ``space`` maps parameter names to a list of values, a ``(lo, hi, n)`` range (grid) or a
    ``(lo, hi)`` range (random, lhs); a scalar fixes a parameter. The grid result has one
    dimension per swept parameter; random and Latin-hypercube samples have a ``sample``
    dimension with the parameters as coordinates. ``cluster`` is a ``distributed.Client`` or
    a cluster object; without one the current distributed client is used if there is one,
    else dask's local threaded scheduler.

    >>> from genesis_lab.simulators import get_simulator, sweep
    >>> sim = get_simulator("critical-materials/solvent-extraction-cascade")
    >>> ds = sweep(sim, {"n_stages": [2, 4, 8], "distribution_ratio": (0.5, 4.0, 5)},
    ...            progress=False)
    >>> dict(ds["recovery_a"].sizes)
    {'n_stages': 3, 'distribution_ratio': 5}
    """
    sim = _as_simulator(simulator)
    if method not in METHODS:
        raise ParameterError(f"method={method!r} is not known; allowed: {', '.join(METHODS)}")
    points, swept, fixed = expand_space(sim, space, method=method, n=n, seed=seed)
    total = len(next(iter(points.values()))) if points else 1
    client, owned = _client_for(cluster)
    try:
        workers = _worker_count(client)
        chunks = chunk_points(points, total, chunk_size=chunk_size, workers=workers)
        results = _evaluate(sim, chunks, seed, client, progress=progress, cache=cache)
    finally:
        if owned:
            client.close()
    return _assemble(sim, results, swept, fixed, method=method, seed=seed, space=space)


def expand_space(
    sim: Simulator, space: Mapping[str, Any], *, method: str, n: int | None, seed: int
) -> tuple[dict[str, np.ndarray], list[str], dict[str, Any]]:
    """The points of a sweep (one array per parameter), the swept names and the fixed values."""
    swept: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for name, spec in space.items():
        param = sim.parameter(name)
        if isinstance(spec, (list, tuple, np.ndarray)):
            swept[name] = spec
        else:
            fixed[name] = param.check(spec)
    if method == "grid":
        axes = {k: _grid_axis(sim, k, v) for k, v in swept.items()}
        combos = list(itertools.product(*axes.values())) if axes else [()]
        points = {k: np.array([c[i] for c in combos]) for i, k in enumerate(axes)}
    else:
        if not n or n < 1:
            raise ParameterError(f"method={method!r} needs n, the number of samples (n >= 1)")
        points = _sample(sim, swept, method=method, n=n, seed=seed)
    total = len(next(iter(points.values()))) if points else 1
    for name, value in fixed.items():
        points[name] = np.repeat(np.asarray([value]), total)
    checked = sim.validate_batch(points) if points else {}
    return {k: checked[k] for k in points}, list(swept), fixed


def _grid_axis(sim: Simulator, name: str, spec: Any) -> np.ndarray:
    param = sim.parameter(name)
    if isinstance(spec, tuple) and len(spec) != 3 and param.type in ("float", "int"):
        raise ParameterError(
            f"space[{name!r}] = {spec!r}: the grid method takes a range as (lo, hi, n) for n "
            f"evenly spaced values, for example ({_first(spec)}, {_last(spec)}, 10), or a list "
            "of the values themselves; a (lo, hi) range is for method='random' or 'lhs' with n"
        )
    if isinstance(spec, tuple) and len(spec) == 3 and param.type in ("float", "int"):
        lo, hi, count = spec
        if not isinstance(count, (int, np.integer)) or count < 1:
            raise ParameterError(
                f"space[{name!r}] = {spec!r}: a range is (lo, hi, n) with an integer n >= 1"
            )
        values = np.linspace(float(lo), float(hi), int(count))
        if param.type == "int":
            values = np.unique(np.round(values).astype(np.int64))
        return param.check_array(values)
    if len(spec) == 0:
        raise ParameterError(f"space[{name!r}] is empty; give at least one value")
    return param.check_array(list(spec))


def _sample(sim: Simulator, swept: Mapping[str, Any], *, method: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    names = list(swept)
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=max(1, len(names)), seed=rng).random(n)
    else:
        unit = rng.random((n, max(1, len(names))))
    points = {}
    for i, name in enumerate(names):
        param, spec = sim.parameter(name), swept[name]
        if param.type in ("choice", "bool") or isinstance(spec, list):
            options = np.asarray(list(spec))
            idx = np.minimum((unit[:, i] * len(options)).astype(int), len(options) - 1)
            points[name] = options[idx]
            continue
        if len(spec) != 2:
            raise ParameterError(
                f"space[{name!r}] = {spec!r}: method={method!r} takes a range as (lo, hi) (the "
                "number of samples is the sweep's n), or a list of values to draw from"
            )
        lo, hi = float(spec[0]), float(spec[1])
        values = lo + (hi - lo) * unit[:, i]
        if param.type == "int":
            values = np.floor(lo + (hi - lo + 1) * unit[:, i]).clip(lo, hi).astype(np.int64)
        points[name] = values
    return points


def _first(spec: tuple) -> Any:
    return spec[0] if spec else "lo"


def _last(spec: tuple) -> Any:
    return spec[-1] if len(spec) > 1 else "hi"


def chunk_points(
    points: Mapping[str, np.ndarray],
    total: int,
    *,
    chunk_size: int | None = None,
    workers: int = 1,
) -> list[dict[str, np.ndarray]]:
    """Split the points into chunks: a few tasks per worker, so the ~2 ms task cost is small.

    >>> import numpy as np
    >>> len(chunk_points({"a": np.arange(2000)}, 2000, workers=2))
    8
    """
    if chunk_size is None:
        chunk_size = min(MAX_CHUNK, max(1, math.ceil(total / (TASKS_PER_WORKER * workers))))
    if chunk_size < 1:
        raise ParameterError(f"chunk_size={chunk_size} must be at least 1")
    return [
        {k: v[start : start + chunk_size] for k, v in points.items()}
        for start in range(0, total, chunk_size)
    ]


def chunk_key(sim: Simulator, chunk: Mapping[str, np.ndarray], seed: int) -> str:
    """sha256 of (simulator id, version, its code, the chunk's parameter values, seed).

    The code is :func:`~genesis_lab.simulators.fingerprint.code_fingerprint`: the distribution's
    version and a digest of the simulator's source, so edited code never reads a stale chunk.
    """
    from genesis_lab.simulators.fingerprint import code_fingerprint

    payload = {
        "simulator": sim.id,
        "version": sim.version,
        "code": code_fingerprint(sim),
        "seed": int(seed),
        "points": {k: np.asarray(v).tolist() for k, v in sorted(chunk.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _run_chunk(sim: Simulator, chunk: Mapping[str, np.ndarray], seed: int) -> xr.Dataset:
    return sim.run_batch(chunk, seed=seed)


def _size(chunk: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(chunk.values()))) if chunk else 1


def _cache_path(sim: Simulator, key: str) -> Path:
    folder = get_settings().cache_dir / "sweeps" / sim.id.replace("/", "--")
    return folder / f"{key}.nc"


def _read_cached(path: Path) -> xr.Dataset | None:
    import xarray as xr

    if not path.is_file():
        return None
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError):
        return None  # a damaged cache file is recomputed and overwritten


def _write_cached(path: Path, ds: xr.Dataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, mode=0o600) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")


def _evaluate(
    sim: Simulator,
    chunks: Sequence[Mapping[str, np.ndarray]],
    seed: int,
    client: Any,
    *,
    progress: bool,
    cache: bool,
) -> list[xr.Dataset]:
    from tqdm.auto import tqdm

    keys = [chunk_key(sim, c, seed) for c in chunks]
    results: list[Any] = [None] * len(chunks)
    todo = []
    for i, key in enumerate(keys):
        cached = _read_cached(_cache_path(sim, key)) if cache else None
        if cached is not None:
            results[i] = cached
        else:
            todo.append(i)
    sizes = [_size(c) for c in chunks]
    bar = tqdm(
        total=sum(sizes),
        initial=sum(sizes) - sum(sizes[i] for i in todo),
        desc=f"sweep {sim.id}",
        unit="point",
        disable=not progress,
    )
    try:
        if client is not None:
            _evaluate_distributed(sim, chunks, keys, todo, seed, client, results, bar, cache)
        elif todo:
            _evaluate_threaded(sim, chunks, keys, todo, seed, results, bar, cache)
    finally:
        bar.close()
    return results


def _evaluate_distributed(sim, chunks, keys, todo, seed, client, results, bar, cache):
    from distributed import as_completed

    # futures, not a one-shot compute: a task lost with a worker is recomputed by the scheduler
    # a fresh token per sweep: reusing a key still held on the scheduler would hand back the
    # old result without running the simulator (and hide an edited simulator)
    token = uuid.uuid4().hex[:8]
    futures = {}
    for i in todo:
        fut = client.submit(
            _run_chunk, sim, chunks[i], seed, key=f"genesis-sweep-{keys[i][:16]}-{token}"
        )
        futures[fut] = i
    with client.as_current():  # as_completed finds its event loop through the current client
        for fut, ds in as_completed(list(futures), with_results=True):
            i = futures[fut]
            results[i] = ds
            if cache:
                _write_cached(_cache_path(sim, keys[i]), ds)
            bar.update(_size(chunks[i]))


def _evaluate_threaded(sim, chunks, keys, todo, seed, results, bar, cache):
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(_run_chunk, pure=False)(sim, chunks[i], seed) for i in todo]
    points = {t.key: _size(chunks[i]) for t, i in zip(tasks, todo, strict=True)}

    class _Progress(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            bar.update(points.get(key, 0))

    with _Progress():
        computed = dask.compute(*tasks, scheduler="threads")
    for i, ds in zip(todo, computed, strict=True):
        results[i] = ds
        if cache:
            _write_cached(_cache_path(sim, keys[i]), ds)


def _client_for(cluster: Any) -> tuple[Any, bool]:
    """The distributed client to use (and whether this call created it), or ``None``."""
    if cluster is not None:
        from distributed import Client

        if isinstance(cluster, Client):
            return cluster, False
        return Client(cluster), True
    try:
        from distributed import default_client

        return default_client(), False
    except (ImportError, ValueError):
        return None, False


def _worker_count(client: Any) -> int:
    if client is None:
        return os.cpu_count() or 1
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(w.get("nthreads", 1) for w in workers.values()))


def _assemble(sim, results, swept, fixed, *, method, seed, space) -> xr.Dataset:
    import xarray as xr

    ds = xr.concat(
        results, dim="point", data_vars="all", coords="minimal", compat="override", join="outer"
    )
    ds = ds.drop_vars([name for name in fixed if name in ds.coords])
    for name, value in fixed.items():
        ds = ds.assign_coords({name: value})
        ds[name].attrs["units"] = sim.parameter(name).unit
    unchanged = [p.name for p in sim.parameters if p.name not in swept and p.name not in fixed]
    for name in unchanged:
        if name in ds.coords:
            value = ds[name].values[0].item()
            ds = ds.drop_vars(name).assign_coords({name: value})
            ds[name].attrs["units"] = sim.parameter(name).unit
    if method == "grid" and swept:
        units = {k: ds[k].attrs.get("units", "") for k in swept}
        if len(swept) == 1:
            ds = ds.swap_dims(point=swept[0])
        else:
            ds = ds.set_index(point=swept).unstack("point")
        ds = ds.transpose(*swept, ...)
        for k, unit in units.items():
            ds[k].attrs["units"] = unit
    elif method == "grid":
        ds = ds.isel(point=0, drop=True)
    else:
        ds = ds.rename({"point": "sample"})
    ds.attrs = dict(results[0].attrs)
    ds.attrs.update(
        {
            "sweep_method": method,
            "sweep_space": json.dumps({k: _jsonable(v) for k, v in space.items()}),
            "seed": int(seed),
        }
    )
    return ds


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_simulator(simulator: Simulator | type[Simulator] | str) -> Simulator:
    if isinstance(simulator, str):
        from genesis_lab.simulators.registry import get_simulator

        return get_simulator(simulator)
    if isinstance(simulator, type) and issubclass(simulator, Simulator):
        return simulator()
    if isinstance(simulator, Simulator):
        return simulator
    raise ParameterError(
        f"simulator must be a Simulator, a Simulator class or a catalog id, "
        f"not {type(simulator).__name__}"
    )
