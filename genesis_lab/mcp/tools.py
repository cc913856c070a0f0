"""The agent tools: each one validates its arguments and calls the SDK function the CLI calls.

:class:`Toolbox` is transport-free (the server in :mod:`genesis_lab.mcp.server` wraps it), so the
same clearance, allocation and audit rules hold for every way in. Costly tools ask the human
gate first (:mod:`genesis_lab.mcp.gate`); long ones become jobs (:mod:`genesis_lab.mcp.work`).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from genesis_lab.mcp import arguments as A
from genesis_lab.mcp.context import AgentContext
from genesis_lab.mcp.failures import ToolError, explain, from_validation
from genesis_lab.mcp.work import Jobs

__all__ = ["TOOL_NAMES", "Toolbox"]

TOOL_NAMES: tuple[str, ...] = tuple(A.ARGUMENTS)

_ID_FIELD = {
    "catalog_search": "domain",
    "catalog_show": "id",
    "dataset_describe": "id",
    "simulator_describe": "id",
    "simulator_run": "simulator",
    "sweep_start": "simulator",
    "campaign_start": "simulator",
    "campaign_status": "campaign",
    "campaign_stop": "campaign",
    "challenge_run": "challenge",
    "challenge_results": "challenge",
    "model_predict": "model",
    "allocation_usage": "allocation",
    "job_status": "handle",
}

_PARAM_FIELD = {
    "simulator_run": "parameters",
    "sweep_start": "space",
    "campaign_start": "parameters",
    "challenge_run": "parameters",
    "model_predict": "inputs",
    "dataset_describe": "selection",
}

Notify = Callable[[float, float | None, str], None]


def _catalog() -> Any:
    from genesis_lab.catalog import get_catalog
    from genesis_lab.catalog.catalog import CatalogWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)
        return get_catalog()


def _summary(entry: Any) -> dict[str, Any]:
    return {"id": entry.id, "kind": entry.kind, "title": entry.title, "marking": entry.marking}


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


class Toolbox:
    """The 15 tools for one agent context.

    >>> import tempfile, pathlib
    >>> ctx = AgentContext("ada", gate=object(), state_dir=pathlib.Path(tempfile.mkdtemp()))
    >>> Toolbox(ctx).call("catalog_search", {"text": "decay", "limit": 1})["count"] <= 1
    True
    """

    def __init__(self, context: AgentContext, *, max_value_bytes: int | None = None) -> None:
        from genesis_lab.settings import get_settings

        self.context = context
        settings = context.settings or get_settings()
        self.max_value_bytes = (
            max_value_bytes if max_value_bytes is not None else settings.mcp.max_value_bytes
        )
        self.jobs = Jobs(context)

    # -- dispatch ----------------------------------------------------------------------------
    def parse(self, name: str, arguments: dict[str, Any] | None) -> BaseModel:
        """The validated arguments of tool ``name``; a :class:`ToolError` names the bad field."""
        model = A.ARGUMENTS.get(name)
        if model is None:
            raise ToolError("name", f"no tool called {name!r}", allowed=", ".join(TOOL_NAMES))
        try:
            return model.model_validate(arguments or {})
        except ValidationError as exc:
            raise from_validation(exc, model, arguments) from None

    def call(
        self, name: str, arguments: dict[str, Any] | None, notify: Notify | None = None
    ) -> dict[str, Any]:
        """Run tool ``name``; returns its JSON-ready result or raises :class:`ToolError`."""
        args = self.parse(name, arguments)
        try:
            return getattr(self, name)(args, notify)
        except ToolError:
            raise
        except Exception as exc:
            raise explain(
                exc,
                id_field=_ID_FIELD.get(name, "id"),
                param_field=_PARAM_FIELD.get(name, _ID_FIELD.get(name, "arguments")),
            ) from None

    # -- catalog and data --------------------------------------------------------------------
    def catalog_search(self, a: A.CatalogSearch, notify: Notify | None) -> dict[str, Any]:
        hits = _catalog().search(a.text, domain=a.domain, kind=a.kind, keyword=a.keyword)
        return {
            "count": min(len(hits), a.limit),
            "total": len(hits),
            "entries": [_summary(e) for e in hits[: a.limit]],
        }

    def catalog_show(self, a: A.CatalogShow, notify: Notify | None) -> dict[str, Any]:
        entry = _catalog().get(a.id)
        data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data | {"accessLevel": entry.access_level, "uri": f"genesis://entry/{entry.id}"}

    def dataset_describe(self, a: A.DatasetDescribe, notify: Notify | None) -> dict[str, Any]:
        from genesis_lab.mcp.describe import describe_dataset

        return describe_dataset(a, max_value_bytes=self.max_value_bytes)

    # -- simulators and models ---------------------------------------------------------------
    def simulator_describe(self, a: A.SimulatorDescribe, notify: Notify | None) -> dict[str, Any]:
        from genesis_lab.simulators.registry import get_simulator

        sim = get_simulator(a.id)
        return {
            "id": sim.id,
            "version": sim.version,
            "title": sim.title,
            "description": sim.description,
            "parameters_schema": A.parameters_schema(sim),
            "parameters": [p.to_dict() for p in sim.parameters],
            "validity": sim.validity(),
            "outputs": [
                {"name": o.name, "unit": o.unit, "description": o.description, "scalar": o.scalar}
                for o in sim.outputs
            ],
        }

    def simulator_run(self, a: A.SimulatorRun, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.gated("simulator_run", a, notify)

    def model_predict(self, a: A.ModelPredict, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.gated("model_predict", a, notify)

    def allocation_usage(self, a: A.AllocationUsage, notify: Notify | None) -> dict[str, Any]:
        from genesis_lab.compute import allocations_for
        from genesis_lab.compute.ledger import usage_report

        user = self.context.user
        mine = {al.id: al for al in allocations_for(user)}
        wanted = a.allocation or self.context.allocation
        if wanted is not None and wanted not in mine:
            raise ToolError(
                "allocation",
                f"{user} is not a member of an allocation {wanted!r}",
                allowed=", ".join(sorted(mine)) or "(none)",
            )
        # through the service in a session (the site ledger is the service's), as `alloc usage`
        report = usage_report(self.context.settings, user=user)
        by_id = {row["id"]: row for row in report["allocations"]}
        rows = []
        for aid, al in sorted(mine.items()):
            if wanted is not None and aid != wanted:
                continue
            row = by_id.get(aid, {})
            rows.append(
                {
                    "allocation": aid,
                    "scheduler": al.scheduler,
                    "budget_core_hours": al.budget_core_hours,
                    "used_core_hours": row.get("used_core_hours", 0.0),
                    "used_by_me_core_hours": row.get("mine_core_hours", 0.0),
                    "left_core_hours": row.get("remaining_core_hours"),
                    "running_core_hours": row.get("running_core_hours"),
                    "running_by_me_core_hours": row.get("mine_running_core_hours"),
                }
            )
        return {"user": user, "session_allocation": self.context.allocation, "allocations": rows}

    # -- long work ---------------------------------------------------------------------------
    def sweep_start(self, a: A.SweepStart, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.gated("sweep_start", a, notify)

    def campaign_start(self, a: A.CampaignStart, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.gated("campaign_start", a, notify)

    def challenge_run(self, a: A.ChallengeRun, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.gated("challenge_run", a, notify)

    def job_status(self, a: A.JobStatus, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.status(a.handle, wait_seconds=a.wait_seconds, notify=notify)

    def campaign_status(self, a: A.CampaignRef, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.campaign_status(a.campaign)

    def campaign_stop(self, a: A.CampaignRef, notify: Notify | None) -> dict[str, Any]:
        return self.jobs.campaign_stop(a.campaign)

    # -- challenges --------------------------------------------------------------------------
    def challenge_list(self, a: A.ChallengeList, notify: Notify | None) -> dict[str, Any]:
        from genesis_lab.pipelines import list_challenges

        chs = [c for c in list_challenges() if not a.domain or c.domain == a.domain]
        return {
            "challenges": [
                {
                    "id": c.id,
                    "domain": c.domain,
                    "title": c.title,
                    "parameters": c.parameter_schema(),
                }
                for c in chs
            ]
        }

    def challenge_results(self, a: A.ChallengeResults, notify: Notify | None) -> dict[str, Any]:
        from genesis_lab.pipelines import get_challenge
        from genesis_lab.pipelines.leaderboard import leaderboard

        get_challenge(a.challenge)
        runs = leaderboard(a.challenge, include_failed=not a.completed_only)
        return {
            "challenge": a.challenge,
            "total": len(runs),
            "runs": json.loads(json.dumps([r.as_dict() for r in runs[: a.limit]], default=str)),
        }
