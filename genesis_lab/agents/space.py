"""The design space of a campaign: named dimensions with bounds, integer steps or choices.

A space is declared (``Space.from_dict``) or read from a simulator's parameter schema; then it
also carries the simulator's validity relations, and its box holds only valid points.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from genesis_lab.errors import CampaignError, ParameterError

__all__ = ["Dimension", "Space"]

DimensionType = Literal["float", "int", "choice"]


@dataclass(frozen=True)
class Dimension:
    """One axis of a design space.

    >>> Dimension("x", "float", (0.0, 1.0)).check(0.5)
    0.5
    """

    name: str
    type: DimensionType = "float"
    bounds: tuple[float, float] | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        if self.type not in ("float", "int", "choice"):
            raise CampaignError(
                f"dimension {self.name!r}: type={self.type!r} is not allowed; "
                "allowed values: float, int, choice"
            )
        if self.type == "choice":
            if not self.choices:
                raise CampaignError(f"dimension {self.name!r}: a choice needs at least one choice")
            return
        if self.bounds is None or len(self.bounds) != 2:
            raise CampaignError(f"dimension {self.name!r}: bounds must be a pair (low, high)")
        lo, hi = (float(b) for b in self.bounds)
        if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise CampaignError(
                f"dimension {self.name!r}: bounds {self.bounds!r} must be finite with low < high"
            )
        if self.log and lo <= 0:
            raise CampaignError(f"dimension {self.name!r}: a log scale needs bounds above 0")
        object.__setattr__(self, "bounds", (lo, hi))

    def check(self, value: Any) -> Any:
        """``value`` converted to the dimension's type, or a :class:`ParameterError`."""
        if self.type == "choice":
            if value not in self.choices:
                raise ParameterError(
                    f"parameter {self.name!r} = {value!r} is not one of {list(self.choices)!r}"
                )
            return value
        assert self.bounds is not None
        lo, hi = self.bounds
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {self.name!r} = {value!r} is not a number") from None
        if not lo <= num <= hi:
            raise ParameterError(
                f"parameter {self.name!r} = {value!r} is out of bounds [{lo:g}, {hi:g}]"
            )
        if self.type == "int":
            if num != round(num):
                raise ParameterError(f"parameter {self.name!r} = {value!r} is not an integer")
            return round(num)
        return num

    def levels(self, n: int) -> list[Any]:
        """``n`` evenly spaced values (all choices, or every integer when there are fewer)."""
        if self.type == "choice":
            return list(self.choices)
        assert self.bounds is not None
        lo, hi = self.bounds
        if self.type == "int":
            count = int(hi) - math.ceil(lo) + 1
            if count <= n:
                return list(range(math.ceil(lo), int(hi) + 1))
            return sorted({round(lo + (hi - lo) * i / (n - 1)) for i in range(n)})
        if n == 1:
            return [(lo + hi) / 2]
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
        return [lo + (hi - lo) * i / (n - 1) for i in range(n)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.log:
            out["log"] = True
        if self.unit:
            out["unit"] = self.unit
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dimension:
        return cls(
            name=data["name"],
            type=data.get("type", "float"),
            bounds=tuple(data["bounds"]) if data.get("bounds") is not None else None,
            choices=tuple(data.get("choices", ())),
            log=bool(data.get("log", False)),
            unit=data.get("unit", ""),
        )


@dataclass(frozen=True)
class Space:
    """An ordered set of dimensions, with optional fixed values passed to every experiment.

    >>> s = Space.from_dict({"x": (-5.0, 10.0), "n": ("int", 1, 4), "mode": ["a", "b"]})
    >>> [d.type for d in s.dimensions]
    ['float', 'int', 'choice']
    """

    dimensions: tuple[Dimension, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    relations: tuple[Any, ...] = ()
    """Validity relations over the dimensions (``simulators.base.Relation``, bound to the
    fixed and default values of the other parameters); :meth:`check` applies them."""

    def __post_init__(self) -> None:
        names = [d.name for d in self.dimensions]
        if not names:
            raise CampaignError("a design space needs at least one dimension")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise CampaignError(f"design space: dimension names repeat: {sorted(dup)}")

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    def __getitem__(self, name: str) -> Dimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise CampaignError(f"no dimension {name!r} in the design space; have {self.names}")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], fixed: Mapping[str, Any] | None = None) -> Space:
        """A space from ``{name: (lo, hi) | ("int", lo, hi) | ("log", lo, hi) | [choices]}``."""
        dims = []
        for name, value in spec.items():
            if isinstance(value, Dimension):
                dims.append(value)
            elif isinstance(value, list):
                dims.append(Dimension(name, "choice", choices=tuple(value)))
            elif isinstance(value, tuple) and len(value) == 3 and value[0] in ("int", "log"):
                kind, lo, hi = value
                dims.append(
                    Dimension(
                        name, "int" if kind == "int" else "float", (lo, hi), log=kind == "log"
                    )
                )
            elif isinstance(value, tuple) and len(value) == 2:
                dims.append(Dimension(name, "float", value))
            else:
                raise CampaignError(
                    f"design space: {name!r} = {value!r}; use (low, high), ('int', low, high), "
                    "('log', low, high) or a list of choices"
                )
        return cls(tuple(dims), dict(fixed or {}))

    @classmethod
    def from_simulator(
        cls,
        simulator: Any,
        include: Iterable[str] | Mapping[str, tuple[float, float] | None] | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> Space:
        """The space of a simulator's parameter schema (``include`` picks some; others default).

        ``include`` may map names to ``(low, high)`` to search a narrower range than the
        schema's bounds (``None`` keeps them); a range beyond the bounds is refused.

        The simulator's validity relations are bound to the fixed and default values of the
        parameters left out, and the box is made to hold only valid points: a relation on one
        searched parameter narrows its bounds (or its choices) to where the model holds; one
        that spans several searched parameters must hold at every corner of the box, or a
        :class:`CampaignError` names it and says what to fix. So a policy proposing anywhere
        in the box never proposes a point the simulator refuses.

        >>> from genesis_lab.simulators import get_simulator
        >>> sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
        >>> s = Space.from_simulator(sim, include=["power", "preheat_temperature"])
        >>> s["preheat_temperature"].bounds[1] < 1700.0  # below the default melting point
        True
        """
        params = {p.name: p for p in simulator.parameters}
        ranges = dict(include) if isinstance(include, Mapping) else {}
        wanted = list(include) if include is not None else list(params)
        unknown = [n for n in wanted if n not in params]
        if unknown:
            raise CampaignError(
                f"design space: {unknown} are not parameters of {getattr(simulator, 'id', simulator)}; "
                f"allowed: {sorted(params)}"
            )
        fixed = dict(fixed or {})
        dims = []
        for name in wanted:
            if name in fixed:
                continue
            p = params[name]
            if p.type == "choice":
                dims.append(Dimension(name, "choice", choices=tuple(p.choices), unit=p.unit))
            elif p.type == "bool":
                dims.append(Dimension(name, "choice", choices=(False, True), unit=p.unit))
            else:
                if p.bounds is None:
                    raise CampaignError(
                        f"parameter {name!r} has no bounds; give it in fixed= or leave it out"
                    )
                bounds = tuple(p.bounds)
                if ranges.get(name) is not None:
                    lo, hi = (float(v) for v in ranges[name])
                    if lo < p.bounds[0] or hi > p.bounds[1]:
                        raise CampaignError(
                            f"design space: {name!r} range ({lo:g}, {hi:g}) goes beyond the "
                            f"parameter's bounds; allowed: {p.describe_allowed()}"
                        )
                    bounds = (lo, hi)
                dims.append(Dimension(name, p.type, bounds, unit=p.unit))
        constants = {p.name: p.default for p in simulator.parameters if p.name not in wanted}
        constants.update(fixed)
        sim_id = getattr(simulator, "id", simulator)
        relations = []
        for relation in getattr(simulator, "relations", ()):
            bound = relation.bind(constants)
            dims = _confine(dims, bound, relation, sim_id)
            relations.append(bound)
        return cls(tuple(dims), fixed, tuple(relations))

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every dimension present and in bounds; returns converted values."""
        missing = [n for n in self.names if n not in params]
        if missing:
            raise ParameterError(f"parameters {missing} are missing; the space has {self.names}")
        out = {d.name: d.check(params[d.name]) for d in self.dimensions}
        for relation in self.relations:
            if len(relation.failing({k: [out[k]] for k in relation.parameters})):
                raise relation.error("the design space", {k: [out[k]] for k in out}, 0)
        return out

    def grid(self, budget: int) -> list[dict[str, Any]]:
        """A full-factorial grid with about ``budget`` points or more (levels per axis equal)."""
        cont = [d for d in self.dimensions if d.type != "choice"]
        n_choice = math.prod(len(d.choices) for d in self.dimensions if d.type == "choice")
        per_axis = 1
        if cont:
            per_axis = max(2, math.ceil((budget / n_choice) ** (1 / len(cont)) - 1e-9))
        axes: list[Sequence[Any]] = [d.levels(per_axis) for d in self.dimensions]
        return [dict(zip(self.names, combo, strict=True)) for combo in itertools.product(*axes)]

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": [d.to_dict() for d in self.dimensions], "fixed": dict(self.fixed)}

    @classmethod
    def from_spec(cls, data: Mapping[str, Any]) -> Space:
        return cls(
            tuple(Dimension.from_dict(d) for d in data["dimensions"]), dict(data.get("fixed", {}))
        )


def _corners(dims: Sequence[Dimension]) -> list[dict[str, Any]]:
    """Every corner of the box of ``dims`` (every choice of a choice dimension)."""
    axes = [list(d.choices) if d.type == "choice" else list(d.bounds or ()) for d in dims]
    return [dict(zip([d.name for d in dims], c, strict=True)) for c in itertools.product(*axes)]


def _holds(relation: Any, point: Mapping[str, Any]) -> bool:
    return not len(relation.failing({k: [point[k]] for k in relation.parameters}))


def _confine(dims: list[Dimension], bound: Any, relation: Any, sim_id: Any) -> list[Dimension]:
    """``dims`` with the box made valid for ``bound``, or a CampaignError saying what to fix."""
    involved = [d for d in dims if d.name in bound.parameters]
    if not involved:
        if not _holds(bound, {}):
            raise CampaignError(
                f"the fixed and default values of {sim_id} break its relation "
                f"{relation.text!r} ({relation.why}); change them with fixed="
            )
        return dims
    if not relation.monotone:
        levels = [d.levels(9) for d in involved]
        points = [dict(zip([d.name for d in involved], c, strict=True))
                  for c in itertools.product(*levels)]  # fmt: skip
    else:
        points = _corners(involved)
    bad = [pt for pt in points if not _holds(bound, pt)]
    if not bad:
        return dims
    if len(involved) == 1:
        narrowed = _narrow(involved[0], bound)
        if narrowed is not None:
            return [narrowed if d.name == narrowed.name else d for d in dims]
    names = ", ".join(d.name for d in involved)
    example = ", ".join(f"{k}={v!r}" for k, v in bad[0].items())
    raise CampaignError(
        f"{sim_id} needs {relation.text!r} ({relation.why}), which fails in part of this "
        f"design space (for example at {example}); fix one of {names} with fixed= or search "
        "fewer parameters with include=, so the whole space is valid"
    )


def _narrow(dim: Dimension, bound: Any) -> Dimension | None:
    """The largest sub-range (or subset of choices) of ``dim`` where ``bound`` holds."""
    if dim.type == "choice":
        kept = tuple(c for c in dim.choices if _holds(bound, {dim.name: c}))
        return replace(dim, choices=kept) if kept else None
    assert dim.bounds is not None
    lo, hi = dim.bounds
    ok_lo, ok_hi = _holds(bound, {dim.name: lo}), _holds(bound, {dim.name: hi})
    if ok_lo == ok_hi:
        return None
    good, bad = (lo, hi) if ok_lo else (hi, lo)
    log = dim.log and lo > 0
    for _ in range(80):
        mid = math.sqrt(good * bad) if log else 0.5 * (good + bad)
        if _holds(bound, {dim.name: mid}):
            good = mid
        else:
            bad = mid
    if dim.type == "int":
        good = math.floor(good) if ok_lo else math.ceil(good)
        if not _holds(bound, {dim.name: good}):
            return None
    new = (lo, good) if ok_lo else (good, hi)
    if not new[0] < new[1]:
        return None
    return replace(dim, bounds=(float(new[0]), float(new[1])))
