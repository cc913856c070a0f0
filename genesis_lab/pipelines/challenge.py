"""The challenge registry: folders ``<challenge_paths>/<id>/`` with ``challenge.yaml`` and a notebook.

``challenge.yaml`` is the one schema of a challenge: its parameters drive papermill injection, the
CLI flags, forms and schedules; its metrics say what a run records and how runs are ranked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesis_lab.catalog.entry import Domain
from genesis_lab.errors import ChallengeNotFoundError, ParameterError, PipelineError
from genesis_lab.pipelines.parameters import Parameter, validate_parameters
from genesis_lab.settings import Settings, get_settings

__all__ = ["Challenge", "Metric", "get_challenge", "list_challenges", "load_challenge"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Metric(BaseModel):
    """A metric a run records: unit, which way is better, and the tolerance ``verify`` allows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    unit: str = ""
    goal: Literal["minimize", "maximize", "none"] = "none"
    description: str = ""
    rel_tol: float = Field(1e-6, ge=0)
    abs_tol: float = Field(1e-9, ge=0)


class Challenge(BaseModel):
    """One challenge: its question, parameter schema, metrics and the assets it uses.

    >>> from genesis_lab.pipelines import get_challenge
    >>> ch = get_challenge("reactor-period")  # doctest: +SKIP
    >>> ch.validate_parameters({"rho_max": "0.8"})  # doctest: +SKIP
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    domain: Domain
    title: str = Field(min_length=1)
    question: str = Field(min_length=1)
    notebook: str = "challenge.ipynb"
    kernel: str = "python3"
    keywords: tuple[str, ...] = ()
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(min_length=1)
    primary_metric: str | None = None
    datasets: tuple[str, ...] = ()
    simulators: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    timeout: float = Field(600, gt=0, description="Seconds a cell may run.")
    folder: Path

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lowercase letters, digits and '-'")
        return value

    @field_validator("parameters", mode="before")
    @classmethod
    def _named_params(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: {"name": k, **(v or {})} for k, v in value.items()}
        return value

    @field_validator("metrics", mode="before")
    @classmethod
    def _named_metrics(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: {"name": k, **(v or {})} for k, v in value.items()}
        return value

    @property
    def catalog_id(self) -> str:
        """The id of this challenge's catalog entry (``<domain>/<id>``)."""
        return f"{self.domain}/{self.id}"

    @property
    def notebook_path(self) -> Path:
        return self.folder / self.notebook

    @property
    def primary(self) -> Metric:
        """The metric runs are ranked by."""
        return self.metrics[self.primary_metric or next(iter(self.metrics))]

    def validate_parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid by ``values``; raises :class:`ParameterError` naming a bad one."""
        return validate_parameters(self.parameters, values, owner=f"challenge {self.id!r}")

    def parameter_schema(self) -> list[dict[str, Any]]:
        """The parameters as JSON-ready dicts: name, type, unit, bounds, default, description."""
        return [p.as_schema() for p in self.parameters.values()]


def load_challenge(folder: Path) -> Challenge:
    """Read and validate ``folder/challenge.yaml``.

    >>> from pathlib import Path
    >>> load_challenge(Path("notebooks/challenges/reactor-period")).domain  # doctest: +SKIP
    'nuclear-energy'
    """
    path = folder / "challenge.yaml"
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PipelineError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(spec, dict):
        raise PipelineError(f"{path}: must hold a mapping")
    spec = {k: v for k, v in spec.items() if k in Challenge.model_fields} | {"folder": folder}
    spec.setdefault("id", folder.name)
    try:
        ch = Challenge.model_validate(spec)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PipelineError(f"{path}: invalid challenge ({problems})") from None
    except ParameterError as exc:
        raise PipelineError(f"{path}: invalid parameter ({exc})") from None
    if ch.primary_metric and ch.primary_metric not in ch.metrics:
        raise PipelineError(
            f"{path}: primary_metric {ch.primary_metric!r} is not one of {', '.join(ch.metrics)}"
        )
    if not ch.notebook_path.is_file():
        raise PipelineError(f"{path}: notebook {ch.notebook!r} not found in {folder}")
    return ch


def list_challenges(settings: Settings | None = None) -> list[Challenge]:
    """Every challenge under ``settings.challenge_paths``, sorted by domain then id."""
    settings = settings or get_settings()
    found: dict[str, Challenge] = {}
    for root in settings.challenge_paths:
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/challenge.yaml")):
            ch = load_challenge(path.parent)
            found.setdefault(ch.id, ch)
    return sorted(found.values(), key=lambda c: (c.domain, c.id))


def get_challenge(challenge_id: str, settings: Settings | None = None) -> Challenge:
    """The challenge ``challenge_id`` (``<id>`` or its catalog id ``<domain>/<id>``).

    >>> get_challenge("reactor-period").catalog_id  # doctest: +SKIP
    'nuclear-energy/reactor-period'
    """
    settings = settings or get_settings()
    name = challenge_id.rsplit("/", 1)[-1]
    for root in settings.challenge_paths:
        if _ID.match(name) and (root / name / "challenge.yaml").is_file():
            ch = load_challenge(root / name)
            if "/" in challenge_id and ch.catalog_id != challenge_id:
                continue
            return ch
    known = [c.id for c in list_challenges(settings)]
    import difflib

    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Closest: {', '.join(close)}." if close else ""
    raise ChallengeNotFoundError(
        f"No challenge {challenge_id!r}.{hint} Run `genesis-lab challenge list` to see them."
    )
