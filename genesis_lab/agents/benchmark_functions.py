"""Standard optimisation test functions with known optima (Branin, Hartmann-6), for benchmarks.

Each is a :class:`TestFunction`: a design space, ``f(params) -> {"y": value}`` and the minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from genesis_lab.agents.space import Space

__all__ = ["BRANIN", "HARTMANN6", "TestFunction", "branin", "hartmann6"]


@dataclass(frozen=True)
class TestFunction:
    """A function to minimise, its space and its known minimum (for simple regret)."""

    __test__ = False  # not a pytest class

    name: str
    space: Space
    function: Callable[[Mapping[str, Any]], dict[str, float]]
    minimum: float

    def regret(self, best_value: float) -> float:
        """Simple regret: best value found minus the true minimum."""
        return float(best_value - self.minimum)


def branin(p: Mapping[str, Any]) -> dict[str, float]:
    """Branin-Hoo on [-5, 10] x [0, 15]; minimum 0.397887 at three points.

    >>> round(branin({"x1": math.pi, "x2": 2.275})["y"], 6)
    0.397887
    """
    x1, x2 = float(p["x1"]), float(p["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return {"y": (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10}


_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(p: Mapping[str, Any]) -> dict[str, float]:
    """Hartmann-6 on [0, 1]^6; minimum -3.32237.

    >>> opt = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    >>> round(hartmann6({f"x{i + 1}": v for i, v in enumerate(opt)})["y"], 4)
    -3.3224
    """
    x = np.array([float(p[f"x{i + 1}"]) for i in range(6)])
    inner = (_H_A * (x - _H_P) ** 2).sum(axis=1)
    return {"y": float(-(_H_ALPHA * np.exp(-inner)).sum())}


BRANIN = TestFunction(
    "branin", Space.from_dict({"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}), branin, 0.397887
)
HARTMANN6 = TestFunction(
    "hartmann6", Space.from_dict({f"x{i + 1}": (0.0, 1.0) for i in range(6)}), hartmann6, -3.32237
)
