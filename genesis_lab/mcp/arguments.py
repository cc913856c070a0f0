"""The tools' arguments as pydantic models; their JSON schemas are what ``tools/list`` shows.

The parts that depend on a simulator or a challenge (their parameters) are generated from the
same typed parameter specs the CLI and the widgets use (:class:`genesis_lab.simulators.base.
Parameter`, :class:`genesis_lab.pipelines.parameters.Parameter`), see :func:`parameters_schema`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ARGUMENTS", "parameters_schema", "tool_input_schema"]

Id = Annotated[
    str,
    Field(
        min_length=3,
        max_length=200,
        pattern=r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$",
        description="a catalog id, domain/name",
    ),
]
Scalar = float | int | bool | str
Handle = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[a-z0-9-]+$",
        description="the handle a long tool returned",
    ),
]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CatalogSearch(_Args):
    """Search the catalog: every word of ``text`` and the facets given."""

    text: str | None = Field(None, max_length=500)
    domain: str | None = Field(None, max_length=100)
    kind: Literal["dataset", "model", "simulator", "challenge"] | None = None
    keyword: str | None = Field(None, max_length=100)
    limit: int = Field(50, ge=1, le=500)


class CatalogShow(_Args):
    """One catalog entry's metadata (DCAT-US fields, provenance, marking)."""

    id: Id


class Slice(_Args):
    start: float | int | str | None = None
    stop: float | int | str | None = None


class DatasetDescribe(_Args):
    """Dims, variables, units, provenance and summary statistics of a selection of a dataset."""

    id: Id
    variables: list[Annotated[str, Field(max_length=200)]] | None = Field(None, max_length=100)
    selection: dict[str, Slice | float | int | str] | None = Field(
        None, description="dimension -> a value (nearest) or {start, stop} (inclusive labels)"
    )


class SimulatorDescribe(_Args):
    """A simulator's parameters (as a JSON schema), validity domain and outputs."""

    id: Id


class SimulatorRun(_Args):
    """Run a simulator once at one parameter point; returns its scalar outputs."""

    simulator: Id
    parameters: dict[str, Scalar] = Field(default_factory=dict)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class SweepStart(_Args):
    """Start a sweep: a grid ([lo, hi, n] or a list of values) or a sample ([lo, hi])."""

    simulator: Id
    space: dict[str, list[Scalar] | Scalar] = Field(
        description="parameter -> [lo, hi, n] (grid), [lo, hi] (random, lhs), a list of values, "
        "or a scalar to hold it"
    )
    method: Literal["grid", "random", "lhs"] = "grid"
    n: int | None = Field(None, ge=1, le=100_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class Constraint(_Args):
    op: Literal["<=", ">="]
    bound: float | int


class CampaignStart(_Args):
    """Start (or resume, by name) a closed-loop campaign over a simulator's parameter space."""

    simulator: Id
    objective: dict[str, Literal["min", "max"]] = Field(min_length=1, max_length=8)
    parameters: dict[str, list[float | int]] | None = Field(
        None, description="parameters to explore -> [] (its whole range) or [lo, hi]"
    )
    fixed: dict[str, Scalar] | None = None
    constraints: dict[str, Constraint] | None = None
    policy: Literal["bayes", "random", "grid", "tpe"] = "bayes"
    budget: int = Field(20, ge=1, le=500)
    batch_size: int = Field(1, ge=1, le=32)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    name: str | None = Field(
        None, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )


class CampaignRef(_Args):
    """A campaign by the handle campaign_start returned (or by its name)."""

    campaign: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ChallengeList(_Args):
    """Every challenge (optionally of one domain)."""

    domain: str | None = Field(None, max_length=100)


class ChallengeRun(_Args):
    """Run a challenge pipeline (papermill); an identical stored run is returned from cache."""

    challenge: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    parameters: dict[str, Scalar] = Field(default_factory=dict)
    force: bool = False


class ChallengeResults(_Args):
    """A challenge's runs, best first."""

    challenge: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    completed_only: bool = False
    limit: int = Field(20, ge=1, le=500)


class ModelPredict(_Args):
    """Predict with a catalog model: one list of values per feature, the same length."""

    model: Id
    inputs: dict[str, list[float | int]] = Field(min_length=1)
    return_std: bool = False


class AllocationUsage(_Args):
    """Core-hours used per allocation (the session's by default) and the budget left."""

    allocation: str | None = Field(None, min_length=1, max_length=100)


class JobStatus(_Args):
    """A long job's state and progress; an approved held job starts here."""

    handle: Handle
    wait_seconds: float | int = Field(
        0, ge=0, le=120, description="wait up to this long for the job to end, with progress"
    )


ARGUMENTS: dict[str, type[_Args]] = {
    "catalog_search": CatalogSearch,
    "catalog_show": CatalogShow,
    "dataset_describe": DatasetDescribe,
    "simulator_describe": SimulatorDescribe,
    "simulator_run": SimulatorRun,
    "sweep_start": SweepStart,
    "campaign_start": CampaignStart,
    "campaign_status": CampaignRef,
    "campaign_stop": CampaignRef,
    "challenge_list": ChallengeList,
    "challenge_run": ChallengeRun,
    "challenge_results": ChallengeResults,
    "model_predict": ModelPredict,
    "allocation_usage": AllocationUsage,
    "job_status": JobStatus,
}


def _simulator_param(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": f"{p.description} [{p.unit}]".strip(),
        "default": p.default,
    }
    if p.type == "choice":
        out["enum"] = list(p.choices)
    elif p.type == "bool":
        out["type"] = "boolean"
    else:
        out["type"] = "integer" if p.type == "int" else "number"
        if p.bounds is not None:
            out["minimum"], out["maximum"] = p.bounds
    return out


def _challenge_param(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": p.description or p.name, "default": p.default}
    kind = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}.get(p.type)
    if kind:
        out["type"] = kind
    if getattr(p, "choices", None):
        out["enum"] = list(p.choices)
    for key, attr in (("minimum", "min"), ("maximum", "max")):
        if getattr(p, attr, None) is not None:
            out[key] = getattr(p, attr)
    return out


def parameters_schema(owner: Any) -> dict[str, Any]:
    """A JSON schema for the ``parameters`` of a simulator or a challenge, from its specs.

    >>> from genesis_lab.simulators.biotechnology import MichaelisMenten
    >>> parameters_schema(MichaelisMenten)["properties"]["s0"]["type"]
    'number'
    """
    specs = owner.parameters
    if isinstance(specs, dict):  # a challenge: name -> pipelines Parameter
        props = {name: _challenge_param(p) for name, p in specs.items()}
    else:
        props = {p.name: _simulator_param(p) for p in specs}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _conditional(field: str, key: str, owners: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "if": {"properties": {key: {"const": oid}}, "required": [key]},
            "then": {"properties": {field: parameters_schema(owner)}},
        }
        for oid, owner in owners.items()
    ]


def tool_input_schema(
    name: str, simulators: dict[str, Any] | None = None, challenges: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON schema ``tools/list`` gives for tool ``name``.

    With ``simulators`` (id -> class) and ``challenges`` (id -> Challenge), the ids are an
    ``enum`` and each one's parameters are spelled out (``if``/``then`` per id).

    >>> tool_input_schema("catalog_show")["required"]
    ['id']
    """
    schema = ARGUMENTS[name].model_json_schema()
    schema.pop("title", None)
    props = schema.get("properties", {})
    if simulators and "simulator" in props:
        props["simulator"] = props["simulator"] | {"enum": sorted(simulators)}
        schema.pop("pattern", None)
        if name == "simulator_run":
            schema["allOf"] = _conditional("parameters", "simulator", simulators)
    if challenges and name == "challenge_run":
        props["challenge"] = props["challenge"] | {"enum": sorted(challenges)}
        schema["allOf"] = _conditional("parameters", "challenge", challenges)
    return schema
