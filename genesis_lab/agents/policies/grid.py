"""The ``grid`` baseline: a full-factorial grid visited in a seeded random order.

A random order makes a budget smaller than the grid still cover the whole space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies.base import Suggestion
from genesis_lab.agents.space import Space

__all__ = ["GridPolicy"]


class GridPolicy:
    """Grid points in a fixed order; on resume, points already run are skipped.

    >>> from genesis_lab.agents.space import Space
    >>> from genesis_lab.agents.objective import Objective
    >>> g = GridPolicy(Space.from_dict({"x": (0.0, 1.0)}), Objective.parse("y"), budget=3)
    >>> sorted(s.params["x"] for s in g.ask(3))
    [0.0, 0.5, 1.0]
    """

    name = "grid"

    def __init__(
        self, space: Space, objective: Objective, *, budget: int, seed: int | None = None
    ) -> None:
        points = space.grid(budget)
        order = np.random.default_rng(seed).permutation(len(points))
        self._points = [points[i] for i in order]
        self._seen: set[tuple] = set()
        self._next = 0

    def _key(self, params: Mapping[str, Any]) -> tuple:
        return tuple(sorted((k, round(v, 12) if isinstance(v, float) else v)
                            for k, v in params.items()))  # fmt: skip

    def ask(self, n: int) -> list[Suggestion]:
        out = []
        while len(out) < n and self._next < len(self._points):
            p = self._points[self._next]
            self._next += 1
            if self._key(p) in self._seen:
                continue
            self._seen.add(self._key(p))
            out.append(Suggestion(self._next - 1, dict(p)))
        return out

    def tell(
        self, key: Any, values: Sequence[float] | None, violations: Sequence[float] = ()
    ) -> None:
        return None

    def replay(
        self,
        params: Mapping[str, Any],
        values: Sequence[float] | None,
        violations: Sequence[float] = (),
    ) -> None:
        self._seen.add(self._key(params))
