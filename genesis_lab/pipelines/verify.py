"""``verify``: re-execute a stored run and compare its metrics within the challenge's tolerances.

The re-execution goes to a scratch folder; the store is not changed.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.errors import PipelineError
from genesis_lab.pipelines.challenge import get_challenge
from genesis_lab.pipelines.runner import execute, prepare
from genesis_lab.pipelines.store import ResultsStore
from genesis_lab.settings import Settings, get_settings

__all__ = ["Verification", "verify"]


@dataclass(frozen=True)
class Verification:
    """The outcome of re-executing a run: per-metric comparison and what changed since."""

    run_id: str
    challenge: str
    reproduced: bool
    metrics: list[dict[str, Any]] = field(default_factory=list)
    notebook_changed: bool = False
    packages_changed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "challenge": self.challenge,
            "reproduced": self.reproduced,
            "metrics": self.metrics,
            "notebook_changed": self.notebook_changed,
            "packages_changed": {k: list(v) for k, v in self.packages_changed.items()},
            "error": self.error,
        }


def verify(run_id: str, *, settings: Settings | None = None) -> Verification:
    """Re-execute stored run ``run_id`` with its parameters; compare metrics within tolerances.

    A metric agrees when ``|new - old| <= abs_tol + rel_tol * |old|`` (``challenge.yaml``).

    >>> from genesis_lab.pipelines import verify
    >>> verify("20261123T104726.123456Z-1a2b3c4d5e6f").reproduced  # doctest: +SKIP
    True
    """
    settings = settings or get_settings()
    record = ResultsStore(settings.results_root).find(run_id)
    if record.state != "completed":
        raise PipelineError(
            f"Run {record.run_id} {record.state}; only completed runs can be verified."
        )
    ch = get_challenge(record.challenge, settings)
    prep = prepare(ch, record.parameters)
    old_pk = record.status.get("packages", {})
    changed = {
        n: (old_pk.get(n), prep.packages.get(n))
        for n in sorted(set(old_pk) | set(prep.packages))
        if old_pk.get(n) != prep.packages.get(n)
    }
    with tempfile.TemporaryDirectory(prefix="genesis-verify-") as scratch:
        result = execute(prep, Path(scratch), start_timeout=settings.pipelines.kernel_start_timeout)
    rows = []
    for name, metric in ch.metrics.items():
        old = record.metrics.get(name)
        new = result.metrics.get(name)
        ok = (
            old is not None
            and new is not None
            and math.isclose(new, old, rel_tol=metric.rel_tol, abs_tol=metric.abs_tol)
        )
        rows.append(
            {
                "metric": name,
                "stored": old,
                "now": new,
                "rel_tol": metric.rel_tol,
                "abs_tol": metric.abs_tol,
                "agrees": ok,
            }
        )
    return Verification(
        run_id=record.run_id,
        challenge=ch.id,
        reproduced=result.status == "completed" and all(r["agrees"] for r in rows),
        metrics=rows,
        notebook_changed=prep.notebook_sha256 != record.status.get("notebook_sha256"),
        packages_changed=changed,
        error=result.error,
    )
