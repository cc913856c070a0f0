"""Tool errors an agent can act on: the field, the allowed values and how to fix it.

Every refusal of a tool call becomes a :class:`ToolError`; :func:`explain` turns the errors the
layers below raise (pydantic validation, :mod:`genesis_lab.errors`) into one, and never into a
stack trace.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from genesis_lab.errors import (
    AccessDeniedError,
    CampaignError,
    ChallengeNotFoundError,
    GenesisError,
    ParameterError,
    UnknownAssetError,
    UnknownOutputError,
)

__all__ = ["ToolError", "explain", "from_validation"]


class ToolError(Exception):
    """A tool call refused: ``field`` names the argument, ``allowed`` what it may hold.

    >>> str(ToolError("budget", "must be at least 1", allowed="an integer in [1, 500]"))
    "argument 'budget': must be at least 1. Allowed: an integer in [1, 500]."
    """

    def __init__(self, field: str, problem: str, *, allowed: str = "", fix: str = "") -> None:
        self.field = field
        self.problem = problem.rstrip(".")
        self.allowed = allowed
        self.fix = fix
        super().__init__(self.text())

    def text(self) -> str:
        out = f"argument {self.field!r}: {self.problem}."
        if self.allowed:
            out += f" Allowed: {self.allowed.rstrip('.')}."
        if self.fix:
            out += f" Fix: {self.fix.rstrip('.')}."
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "problem": self.problem,
            "allowed": self.allowed,
            "fix": self.fix,
        }


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "a list",
    "none_required": "null",
}


def _path(loc: tuple[Any, ...], given: Any) -> str:
    """The part of pydantic's location that is in the arguments (union member tags dropped)."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        inside = (isinstance(given, dict) and part in given) or (
            isinstance(given, list) and isinstance(part, int) and 0 <= part < len(given)
        )
        if inside:
            given = given[part]
            parts.append(str(part))
        elif i == len(loc) - 1 and isinstance(given, dict):
            parts.append(str(part))
    return ".".join(parts) or "arguments"


def from_validation(exc: ValidationError, model: Any, given: Any = None) -> ToolError:
    """The first problem pydantic found, naming the field and what it accepts."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    field = _path(err["loc"], given)
    kind = err["type"]
    if kind == "extra_forbidden":
        known = ", ".join(sorted(model.model_fields)) if len(err["loc"]) == 1 else ""
        return ToolError(
            field,
            "is not a known field",
            allowed=f"the fields {known}" if known else "the fields the tool's schema lists",
            fix="remove it or correct its name",
        )
    if kind == "missing":
        return ToolError(field, "is required", fix="give it (see the tool's input schema)")
    same = [e for e in errors if _path(e["loc"], given) == field]
    words = list(dict.fromkeys(_TYPE_WORDS[e["type"]] for e in same if e["type"] in _TYPE_WORDS))
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        allowed = str(ctx["expected"])
    elif {"ge", "le", "gt", "lt"} & set(ctx):
        allowed = ", ".join(f"{k} {v}" for k, v in ctx.items())
    elif "pattern" in ctx:
        allowed = f"text matching {ctx['pattern']}"
    elif {"min_length", "max_length"} & set(ctx):
        allowed = ", ".join(f"{k} {v}" for k, v in ctx.items() if k.endswith("length"))
    else:
        allowed = " or ".join(words)
    problem = err["msg"] if len(same) == 1 else f"{err['msg']} (and {len(same) - 1} more)"
    return ToolError(field, problem, allowed=allowed, fix="correct the value")


def explain(
    exc: BaseException, *, id_field: str = "id", param_field: str = "parameters"
) -> ToolError:
    """The :class:`ToolError` for an error raised while a tool ran.

    An unknown id (or one the caller may not see) names ``id_field``; a refused clearance keeps
    the service's reason.
    """
    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, UnknownAssetError):
        return ToolError(id_field, str(exc), fix="use catalog_search to find the ids there are")
    if isinstance(exc, ChallengeNotFoundError):
        return ToolError(id_field, str(exc), fix="use challenge_list to see the challenge ids")
    if isinstance(exc, AccessDeniedError):
        return ToolError(
            id_field,
            f"access refused: {exc}",
            fix="ask a clearance officer for the clearance it needs",
        )
    if isinstance(exc, UnknownOutputError):
        return ToolError(
            "objective",
            str(exc),
            allowed=", ".join(exc.allowed),
            fix="use simulator_describe to see the outputs",
        )
    if isinstance(exc, ParameterError | CampaignError):
        return ToolError(
            param_field,
            str(exc),
            fix="choose an allowed value (the tool's schema and simulator_describe list them)",
        )
    if isinstance(exc, GenesisError):
        return ToolError(id_field, str(exc), fix="see the message")
    raise exc
