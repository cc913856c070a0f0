"""Challenge pipelines: registry, typed parameters, papermill runner, cache, RO-Crates, schedules.

>>> import genesis_lab.pipelines as pl
>>> [c.id for c in pl.list_challenges()][:1]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from genesis_lab.pipelines.challenge import Challenge, Metric, get_challenge, list_challenges
from genesis_lab.pipelines.metrics import record_metrics
from genesis_lab.pipelines.parameters import Parameter

_LAZY = {
    "run": "genesis_lab.pipelines.runner",
    "RunResult": "genesis_lab.pipelines.runner",
    "verify": "genesis_lab.pipelines.verify",
    "leaderboard": "genesis_lab.pipelines.leaderboard",
    "submit": "genesis_lab.pipelines.batch",
    "ResultsStore": "genesis_lab.pipelines.store",
}

__all__ = [
    "Challenge",
    "Metric",
    "Parameter",
    "get_challenge",
    "list_challenges",
    "record_metrics",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genesis_lab.pipelines' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
