"""What a campaign optimises: one or several outputs to minimise or maximise, and constraints.

Outputs are read by name from what the experiment returns (a mapping or an xarray Dataset).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from genesis_lab.errors import CampaignError

__all__ = ["Constraint", "Objective", "Target", "outputs_of"]

Direction = Literal["minimize", "maximize"]
_DIRECTIONS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}


@dataclass(frozen=True)
class Target:
    """One output and its direction."""

    name: str
    direction: Direction = "minimize"

    def __post_init__(self) -> None:
        d = _DIRECTIONS.get(self.direction)
        if d is None:
            raise CampaignError(
                f"objective {self.name!r}: direction={self.direction!r} is not allowed; "
                "allowed values: minimize, maximize (or min, max)"
            )
        object.__setattr__(self, "direction", d)

    def sign(self) -> float:
        """+1 to minimise, -1 to maximise (so ``sign * value`` is always minimised)."""
        return 1.0 if self.direction == "minimize" else -1.0


@dataclass(frozen=True)
class Constraint:
    """An output that must stay ``<=`` or ``>=`` a bound.

    >>> Constraint("cost", "<=", 3.0).violation(4.0)
    1.0
    """

    name: str
    op: Literal["<=", ">="]
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise CampaignError(
                f"constraint {self.name!r}: op={self.op!r} is not allowed; allowed values: <=, >="
            )

    def violation(self, value: float) -> float:
        """How far the value is on the wrong side of the bound (<= 0 means feasible)."""
        return value - self.bound if self.op == "<=" else self.bound - value


@dataclass(frozen=True)
class Objective:
    """Targets and constraints.

    >>> o = Objective.parse({"yield": "max", "cost": "min"}, constraints={"temp": ("<=", 400)})
    >>> [t.direction for t in o.targets], o.constraints[0].bound
    (['maximize', 'minimize'], 400.0)
    """

    targets: tuple[Target, ...]
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        if not self.targets:
            raise CampaignError("an objective needs at least one output to optimise")

    @classmethod
    def parse(cls, objective: Any, constraints: Any = None) -> Objective:
        """From ``"y"`` (minimise), ``{"y": "max"}``, a list of those, or an ``Objective``."""
        if isinstance(objective, Objective):
            base = objective
        elif isinstance(objective, str):
            base = cls((Target(objective),))
        elif isinstance(objective, Target):
            base = cls((objective,))
        elif isinstance(objective, Mapping):
            base = cls(tuple(Target(k, v) for k, v in objective.items()))
        elif isinstance(objective, Sequence):
            base = cls(tuple(t if isinstance(t, Target) else Target(t) for t in objective))
        else:
            raise CampaignError(
                f"objective={objective!r}: give an output name, {{name: 'min'|'max'}}, "
                "or an Objective"
            )
        if constraints is None:
            return base
        extra = []
        items = constraints.items() if isinstance(constraints, Mapping) else constraints
        for item in items:
            if isinstance(item, Constraint):
                extra.append(item)
                continue
            name, rule = item
            op, bound = rule
            extra.append(Constraint(name, op, float(bound)))
        return cls(base.targets, base.constraints + tuple(extra))

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    @property
    def directions(self) -> list[str]:
        return [t.direction for t in self.targets]

    def values(self, outputs: Mapping[str, float]) -> list[float]:
        """The target values of one result, in order; a missing or non-finite one is an error."""
        out = []
        for t in self.targets:
            if t.name not in outputs:
                raise CampaignError(
                    f"the experiment returned no output {t.name!r}; it returned {sorted(outputs)}"
                )
            v = float(outputs[t.name])
            if not math.isfinite(v):
                raise CampaignError(f"output {t.name!r} is not finite ({v})")
            out.append(v)
        return out

    def violations(self, outputs: Mapping[str, float]) -> list[float]:
        missing = [c.name for c in self.constraints if c.name not in outputs]
        if missing:
            raise CampaignError(
                f"the experiment returned no output for constraints {missing}; "
                f"it returned {sorted(outputs)}"
            )
        return [c.violation(float(outputs[c.name])) for c in self.constraints]

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [{"name": t.name, "direction": t.direction} for t in self.targets],
            "constraints": [
                {"name": c.name, "op": c.op, "bound": c.bound} for c in self.constraints
            ],
        }

    @classmethod
    def from_spec(cls, data: Mapping[str, Any]) -> Objective:
        return cls(
            tuple(Target(t["name"], t["direction"]) for t in data["targets"]),
            tuple(Constraint(c["name"], c["op"], c["bound"]) for c in data.get("constraints", [])),
        )


def outputs_of(result: Any) -> dict[str, float]:
    """Scalar outputs of an experiment's result: a mapping, or the 0-d variables of a Dataset.

    >>> outputs_of({"y": 1})
    {'y': 1.0}
    """
    data_vars = getattr(result, "data_vars", None)
    if data_vars is not None:
        out = {}
        for name, var in data_vars.items():
            if var.ndim == 0 and var.dtype.kind in "iufb":
                out[str(name)] = float(var.values)
        return out
    if isinstance(result, Mapping):
        return {str(k): float(v) for k, v in result.items()}
    if isinstance(result, int | float):
        return {"value": float(result)}
    raise CampaignError(
        f"the experiment returned a {type(result).__name__}; return a mapping of output "
        "names to numbers or an xarray Dataset with 0-d variables"
    )
