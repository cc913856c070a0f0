"""The typed parameter schema of a challenge: one declaration checks every way a value arrives.

Papermill injects whatever it is given as code, so only declared, plain-identifier names pass here.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from genesis_lab.errors import ParameterError

__all__ = ["Parameter", "check_name", "validate_parameters"]

ParamType = Literal["float", "int", "bool", "str"]
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def check_name(name: object) -> str:
    """Return ``name`` if it is a plain Python identifier (not a keyword), else raise.

    >>> check_name("rho_pcm")
    'rho_pcm'
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ParameterError(
            f"parameter name {name!r} is not a plain identifier "
            "(letters, digits and '_', not starting with a digit, not a Python keyword)"
        )
    return name


class Parameter(BaseModel):
    """One parameter: type, unit, bounds or choices, default and a description.

    >>> p = Parameter(name="n", type="int", default=10, min=1, max=100, unit="1")
    >>> p.coerce("12")
    12

    A parameter that changes no metric says so (``display_only``) and what it shows:

    >>> Parameter(name="top_n", type="int", default=10, display_only=True,
    ...           description="rows of the table shown").display_only
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: ParamType
    default: Any
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    description: str = ""
    display_only: bool = False
    """True when the value only changes what is shown (a table's length, a plot), never a metric;
    the description then says what it shows."""

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        check_name(self.name)
        if self.display_only and not self.description.strip():
            raise ValueError(
                f"parameter {self.name!r}: display_only needs a description saying what it shows"
            )
        if self.type in ("bool", "str") and (self.min is not None or self.max is not None):
            raise ValueError(f"parameter {self.name!r}: min/max only apply to int and float")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"parameter {self.name!r}: min {self.min} is above max {self.max}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self._convert(c) for c in self.choices))
        self.coerce(self.default)  # the default itself must be valid
        return self

    def bounds_text(self) -> str:
        """Human-readable allowed values, for messages, ``--help`` and forms."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        if self.type in ("int", "float"):
            return f"{self.type} in [{lo}, {hi}]" + (f" {self.unit}" if self.unit else "")
        return "true or false" if self.type == "bool" else "a string"

    def _convert(self, value: Any) -> Any:
        t = self.type
        if t == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise TypeError
        if t == "str":
            if isinstance(value, str):
                return value
            raise TypeError
        if isinstance(value, bool):
            raise TypeError
        if t == "int":
            if isinstance(value, str):
                return int(value.strip())
            if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
                return int(value)
            if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
                return int(value)
            raise TypeError
        if isinstance(value, str):
            out = float(value.strip())
        elif isinstance(value, int | float) or hasattr(value, "__float__"):
            out = float(value)
        else:
            raise TypeError
        if not math.isfinite(out):
            raise ValueError
        return out

    def coerce(self, value: Any) -> Any:
        """``value`` converted to this parameter's type and checked against its bounds."""
        try:
            out = self._convert(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter {self.name!r}: {value!r} is not a valid {self.type}; "
                f"allowed: {self.bounds_text()}"
            ) from None
        if self.choices is not None and out not in self.choices:
            raise ParameterError(
                f"parameter {self.name!r}: {value!r} is not allowed; {self.bounds_text()}"
            )
        if (self.min is not None and out < self.min) or (self.max is not None and out > self.max):
            raise ParameterError(
                f"parameter {self.name!r}: {value!r} is out of bounds; allowed: {self.bounds_text()}"
            )
        return out

    def as_schema(self) -> dict[str, Any]:
        """JSON-ready description (for forms, the service and ``challenge show --json``)."""
        return self.model_dump(mode="json") | {"allowed": self.bounds_text()}


def validate_parameters(
    schema: Mapping[str, Parameter], values: Mapping[str, Any], *, owner: str = "challenge"
) -> dict[str, Any]:
    """Defaults overlaid by ``values``, each converted and bounds-checked; unknown names rejected.

    >>> schema = {"n": Parameter(name="n", type="int", default=3, min=1, max=9)}
    >>> validate_parameters(schema, {"n": "4"})
    {'n': 4}
    """
    out = {name: p.default for name, p in schema.items()}
    for name, value in values.items():
        if name not in schema:
            allowed = ", ".join(schema) or "(none)"
            raise ParameterError(
                f"unknown parameter {name!r} for {owner}; declared parameters: {allowed}"
            )
        out[name] = schema[name].coerce(value)
    return out
