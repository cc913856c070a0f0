"""The leaderboard of a challenge: its stored runs with their metrics, best first.

Completed runs are ranked by the challenge's primary metric and its goal; failed runs come last.
"""

from __future__ import annotations

import math
from typing import Any

from genesis_lab.pipelines.challenge import get_challenge
from genesis_lab.pipelines.store import ResultsStore, RunRecord
from genesis_lab.settings import Settings, get_settings

__all__ = ["leaderboard"]


def leaderboard(
    challenge_id: str, *, settings: Settings | None = None, include_failed: bool = True
) -> list[RunRecord]:
    """Stored runs of ``challenge_id``, best first by its primary metric.

    >>> from genesis_lab.pipelines import leaderboard
    >>> [r.run_id for r in leaderboard("reactor-period")][:3]  # doctest: +SKIP
    """
    settings = settings or get_settings()
    ch = get_challenge(challenge_id, settings)
    metric = ch.primary
    sign = -1.0 if metric.goal == "maximize" else 1.0

    def rank(r: RunRecord) -> tuple[int, float, str]:
        value: Any = r.metrics.get(metric.name)
        if r.state != "completed" or not isinstance(value, int | float):
            return (1, math.inf, r.run_id)
        score = sign * float(value) if metric.goal != "none" else 0.0
        return (0, score, r.run_id)

    runs = ResultsStore(settings.results_root).runs(ch.id)
    if not include_failed:
        runs = [r for r in runs if r.state == "completed"]
    return sorted(runs, key=rank)
