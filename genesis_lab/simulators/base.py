"""The Simulator protocol: a typed parameter schema and a vectorised ``run`` returning xarray.

Subclasses set class attributes (id, version, parameters, outputs, references) and implement
``_run(points, rngs)`` over many parameter points at once; ``run`` is the one-point face of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from genesis_lab.errors import ParameterError, SimulationError

if TYPE_CHECKING:
    import xarray as xr

    from genesis_lab.catalog import Entry

__all__ = ["Output", "Parameter", "Relation", "Simulator", "point_seed"]

ParameterType = Literal["float", "int", "bool", "choice"]


@dataclass(frozen=True)
class Parameter:
    """One input of a simulator: name, unit, bounds, default and what it means.

    >>> p = Parameter("power", "W", (50.0, 1000.0), 200.0, "Absorbed laser power.")
    >>> p.check(300)
    300.0
    """

    name: str
    unit: str
    bounds: tuple[float, float] | None
    default: Any
    description: str
    type: ParameterType = "float"
    choices: tuple[Any, ...] = ()

    def describe_allowed(self) -> str:
        """The allowed values in words, with the unit."""
        if self.type == "choice":
            return f"one of {', '.join(repr(c) for c in self.choices)}"
        if self.type == "bool":
            return "true or false"
        lo, hi = self.bounds if self.bounds else (-math.inf, math.inf)
        unit = f" {self.unit}" if self.unit and self.unit != "1" else ""
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} in [{lo:g}, {hi:g}]{unit}"

    def _fail(self, value: Any, why: str) -> ParameterError:
        return ParameterError(
            f"parameter {self.name!r} = {value!r} {why}; allowed: {self.describe_allowed()}"
        )

    def check(self, value: Any) -> Any:
        """``value`` converted to this parameter's type, or a :class:`ParameterError`."""
        return self.check_array(np.asarray([value]))[0].item()

    def check_array(self, values: Any) -> np.ndarray:
        """A 1-d array of values converted and checked all at once (vectorised)."""
        arr = np.atleast_1d(np.asarray(values))
        if arr.ndim != 1:
            raise self._fail(values, "must be a scalar or a 1-d sequence")
        if self.type == "choice":
            bad = [v for v in arr.tolist() if v not in self.choices]
            if bad:
                raise self._fail(bad[0], "is not an allowed choice")
            return arr
        if self.type == "bool":
            if arr.dtype == bool:
                return arr
            if arr.dtype.kind in "iu" and np.isin(arr, (0, 1)).all():
                return arr.astype(bool)
            raise self._fail(arr.tolist()[0], "is not a boolean")
        if arr.dtype.kind not in "iuf" or arr.dtype == bool:
            raise self._fail(arr.tolist()[0], f"has the wrong type ({arr.dtype.name})")
        if self.type == "int":
            if arr.dtype.kind == "f":
                whole = np.isfinite(arr) & (arr == np.round(arr))
                if not whole.all():
                    raise self._fail(arr[~whole][0].item(), "is not an integer")
            arr = arr.astype(np.int64)
        else:
            arr = arr.astype(np.float64)
            finite = np.isfinite(arr)
            if not finite.all():
                raise self._fail(arr[~finite][0].item(), "is not finite")
        if self.bounds is not None:
            lo, hi = self.bounds
            out = (arr < lo) | (arr > hi)
            if out.any():
                raise self._fail(arr[out][0].item(), "is out of bounds")
        return arr

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (used in the catalog entry and the CLI)."""
        out: dict[str, Any] = {
            "name": self.name,
            "unit": self.unit,
            "type": self.type,
            "default": self.default,
            "description": self.description,
        }
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class Relation:
    """A condition between parameters that the model needs beyond each one's bounds.

    ``holds`` takes a mapping of parameter arrays (one value per point) and returns a boolean
    array, True where the model holds. ``monotone`` says that flipping from holding to failing
    happens at most once along each parameter (with the others fixed), so checking the corners
    of a box certifies the whole box (the campaign space relies on it).

    >>> r = Relation("a < b", ("a", "b"), lambda p: p["a"] < p["b"], "a must stay below b")
    >>> r.failing({"a": np.array([1.0, 3.0]), "b": np.array([2.0, 2.0])}).tolist()
    [1]
    """

    text: str
    parameters: tuple[str, ...]
    holds: Callable[[Mapping[str, np.ndarray]], np.ndarray] = field(compare=False)
    why: str = ""
    monotone: bool = True

    def failing(self, points: Mapping[str, Any]) -> np.ndarray:
        """Indices of the points where the relation does not hold."""
        arrays = {n: np.atleast_1d(np.asarray(points[n])) for n in self.parameters}
        with np.errstate(all="ignore"):
            ok = np.asarray(self.holds(arrays), dtype=bool)
        n = max((len(a) for a in arrays.values()), default=1)
        return np.flatnonzero(~np.broadcast_to(ok, (n,)))

    def error(self, simulator_id: str, points: Mapping[str, Any], index: int) -> ParameterError:
        """The :class:`ParameterError` for point ``index``: the relation, the values, why."""
        values = ", ".join(
            f"{n}={np.atleast_1d(np.asarray(points[n]))[index if np.size(points[n]) > 1 else 0].item()!r}"
            for n in self.parameters
        )
        why = f" ({self.why})" if self.why else ""
        return ParameterError(
            f"{simulator_id}: the relation {self.text!r} does not hold for {values}{why}; "
            "change one of these parameters"
        )

    def bind(self, constants: Mapping[str, Any]) -> Relation:
        """The relation over the parameters not in ``constants`` (those take the given value)."""
        consts = {n: np.asarray([constants[n]]) for n in self.parameters if n in constants}
        free = tuple(n for n in self.parameters if n not in consts)
        inner = self.holds

        def holds(points: Mapping[str, np.ndarray]) -> np.ndarray:
            n = max((len(np.atleast_1d(points[k])) for k in free), default=1)
            merged = {k: np.repeat(v, n) for k, v in consts.items()}
            merged.update({k: np.atleast_1d(np.asarray(points[k])) for k in free})
            return inner(merged)

        return Relation(self.text, free, holds, self.why, self.monotone)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (catalog entry, CLI, widget)."""
        return {"relation": self.text, "parameters": list(self.parameters), "why": self.why}


@dataclass(frozen=True)
class Output:
    """One output variable: name, unit, description; ``scalar`` ones are summary objectives."""

    name: str
    unit: str
    description: str
    scalar: bool = True


class Simulator:
    """Base class of every simulator; subclasses are small and mostly class attributes.

    A subclass implements ``_run(points, rngs)``: ``points`` maps every parameter name to a
    1-d array (one value per point), ``rngs`` is one ``numpy.random.Generator`` per point
    (seeded from the run's seed only, so a point's result never depends on its neighbours).
    It returns an ``xarray.Dataset`` whose variables have a leading ``point`` dimension.

    >>> from genesis_lab.simulators.biotechnology import MichaelisMenten
    >>> ds = MichaelisMenten().run({"s0": 2.0}, seed=0)
    >>> float(ds["half_conversion_time"]) > 0
    True
    """

    id: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    domain: ClassVar[str] = ""
    keywords: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    references: ClassVar[tuple[str, ...]] = ()
    relations: ClassVar[tuple[Relation, ...]] = ()
    """Conditions between parameters where the model holds (checked on every run)."""
    validity_notes: ClassVar[tuple[str, ...]] = ()
    """Singular points, documented NaN outputs and the regime the model is meant for."""
    agency: ClassVar[str] = "Genesis Mission"
    publisher: ClassVar[str] = "Genesis Mission"
    stochastic: ClassVar[bool] = False
    modified: ClassVar[str] = "2026-11-23"

    # --- schema -------------------------------------------------------------------------
    @classmethod
    def parameter(cls, name: str) -> Parameter:
        """The parameter called ``name``; an unknown name lists the allowed ones."""
        for p in cls.parameters:
            if p.name == name:
                return p
        raise ParameterError(
            f"{cls.id} has no parameter {name!r}; allowed names: "
            f"{', '.join(p.name for p in cls.parameters)}"
        )

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every parameter at its default value."""
        return {p.name: p.default for p in cls.parameters}

    @classmethod
    def validate(cls, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``params``, each converted and checked against its schema.

        >>> from genesis_lab.simulators.biotechnology import MichaelisMenten
        >>> MichaelisMenten.validate({"s0": 3})["s0"]
        3.0
        """
        params = dict(params or {})
        for name in params:
            cls.parameter(name)
        out = cls.defaults()
        for name, value in params.items():
            out[name] = cls.parameter(name).check(value)
        cls.check_relations({k: np.asarray([v]) for k, v in out.items()})
        return out

    @classmethod
    def check_relations(cls, points: Mapping[str, np.ndarray]) -> None:
        """Raise a :class:`ParameterError` naming the first relation a point breaks."""
        for relation in cls.relations:
            bad = relation.failing(points)
            if len(bad):
                raise relation.error(cls.id, points, int(bad[0]))

    @classmethod
    def validity(cls) -> dict[str, Any]:
        """Where the model holds: each parameter's allowed values, the relations, the notes.

        >>> from genesis_lab.simulators.advanced_manufacturing import RosenthalMeltPool
        >>> RosenthalMeltPool.validity()["relations"][0]["relation"]
        'preheat_temperature < melting_temperature'
        """
        return {
            "bounds": {p.name: p.describe_allowed() for p in cls.parameters},
            "relations": [r.to_dict() for r in cls.relations],
            "notes": list(cls.validity_notes),
        }

    @classmethod
    def describe(cls) -> str:
        """A plain-text description: parameters with their allowed values, validity, outputs.

        >>> from genesis_lab.simulators.biotechnology import MichaelisMenten
        >>> "Valid where" in MichaelisMenten.describe()
        True
        """
        lines = [f"{cls.id} (version {cls.version}): {cls.title}", cls.description, ""]
        lines.append("Parameters:")
        for p in cls.parameters:
            lines.append(
                f"  {p.name}: {p.describe_allowed()}; default {p.default!r}. {p.description}"
            )
        lines.append("Valid where:")
        lines.extend(f"  {r.text}  ({r.why})" if r.why else f"  {r.text}" for r in cls.relations)
        if not cls.relations:
            lines.append("  every parameter within its bounds (no relation between them)")
        lines.extend(f"  note: {n}" for n in cls.validity_notes)
        lines.append("Outputs:")
        for o in cls.outputs:
            lines.append(f"  {o.name} [{o.unit}]: {o.description}")
        return "\n".join(lines)

    @classmethod
    def validate_batch(cls, points: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Arrays of equal length for every parameter (missing ones at their default)."""
        for name in points:
            cls.parameter(name)
        lengths = {len(np.atleast_1d(np.asarray(v))) for v in points.values()}
        n = max(lengths) if lengths else 1
        if lengths - {1, n}:
            raise ParameterError(
                f"the parameter arrays for {cls.id} have different lengths {sorted(lengths)}; "
                "give every swept parameter one value per point"
            )
        out: dict[str, np.ndarray] = {}
        for p in cls.parameters:
            raw = points.get(p.name, p.default)
            arr = p.check_array(raw)
            out[p.name] = np.repeat(arr, n) if len(arr) == 1 and n > 1 else arr
        cls.check_relations(out)
        return out

    # --- running ------------------------------------------------------------------------
    def run(
        self, params: Mapping[str, Any] | None = None, seed: int | None = None, **kw: Any
    ) -> xr.Dataset:
        """Run one parameter point; deterministic for a given ``seed``.

        Inputs, seed, simulator id and version are recorded in ``attrs``; scalar summary
        outputs are 0-d variables with a ``units`` attribute.
        """
        merged = {**(params or {}), **kw}
        checked = self.validate(merged)
        ds = self.run_batch({k: [v] for k, v in checked.items()}, seed=seed)
        out = ds.isel(point=0, drop=False)
        out = out.drop_vars("point", errors="ignore")
        out.attrs["parameters"] = json.dumps(checked, sort_keys=True, default=_json_default)
        return out

    def run_batch(self, points: Mapping[str, Any], seed: int | None = None) -> xr.Dataset:
        """Run many parameter points at once, vectorised; outputs have a ``point`` dimension.

        >>> from genesis_lab.simulators.biotechnology import MichaelisMenten
        >>> ds = MichaelisMenten().run_batch({"s0": [1.0, 2.0, 4.0]}, seed=0)
        >>> ds.sizes["point"]
        3
        """
        arrays = self.validate_batch(points)
        n = len(next(iter(arrays.values()))) if arrays else 1
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        seed = int(seed)
        rngs = []
        if self.stochastic:
            names = list(arrays)
            for i in range(n):
                point = {k: arrays[k][i].item() for k in names}
                rngs.append(np.random.default_rng(point_seed(seed, point)))
        try:
            with np.errstate(over="ignore", under="ignore"):
                ds = self._run(arrays, rngs)
        except (ParameterError, SimulationError):
            raise
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            raise SimulationError(
                f"{self.id} (version {self.version}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        for name, arr in arrays.items():
            ds = ds.assign_coords({name: ("point", arr)})
            ds[name].attrs["units"] = self.parameter(name).unit
        for out in self.outputs:
            if out.name in ds:
                ds[out.name].attrs.setdefault("units", out.unit)
                ds[out.name].attrs.setdefault("long_name", out.description)
        ds.attrs.update(self.run_attrs(seed))
        return ds

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _run")

    @classmethod
    def run_attrs(cls, seed: int) -> dict[str, Any]:
        """Provenance attributes of a run (netCDF-safe)."""
        return {
            "simulator_id": cls.id,
            "simulator_version": cls.version,
            "title": cls.title,
            "domain": cls.domain,
            "seed": seed,
            "references": "; ".join(cls.references),
        }

    # --- catalog ------------------------------------------------------------------------
    @classmethod
    def catalog_entry(cls) -> Entry:
        """The catalog entry of this simulator (kind ``simulator``, DCAT-US fields)."""
        from genesis_lab.catalog import Entry

        return Entry.model_validate(
            {
                "id": cls.id,
                "kind": "simulator",
                "domain": cls.domain,
                "title": cls.title,
                "description": cls.description,
                "keyword": list(cls.keywords) or [cls.domain, "simulator"],
                "modified": dt.date.fromisoformat(cls.modified),
                "publisher": {"name": cls.publisher},
                "contactPoint": {
                    "fn": "Genesis Mission help desk",
                    "hasEmail": "help@genesis-lab.invalid",
                },
                "license": "BSD-3-Clause",
                "provenance": {
                    "source": f"{cls.__module__}:{cls.__qualname__}",
                    "agency": cls.agency,
                    "citation": "; ".join(cls.references) or cls.title,
                    "version": cls.version,
                },
                "loader": cls.id,
                "options": {
                    "parameters": [p.to_dict() for p in cls.parameters],
                    "validity": cls.validity(),
                },
                "units": {o.name: o.unit for o in cls.outputs},
            }
        )

    @classmethod
    def scalar_outputs(cls) -> list[str]:
        """Names of the 0-d summary outputs an optimisation campaign can use as objectives."""
        return [o.name for o in cls.outputs if o.scalar]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def point_seed(seed: int, point: Mapping[str, Any]) -> list[int]:
    """Seed material for one point: the run's seed and a digest of the point's parameters.

    Points get independent streams, and a point's stream does not depend on its batch.
    """
    text = json.dumps(point, sort_keys=True, default=_json_default)
    digest = hashlib.sha256(text.encode()).digest()
    return [seed, int.from_bytes(digest[:8], "little")]
