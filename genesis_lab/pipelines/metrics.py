"""``record_metrics``: how a challenge notebook hands its results to the runner.

Inside a run the runner names a file (``settings.metrics_file``); each call merges into it atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from genesis_lab.errors import ParameterError
from genesis_lab.fileio import atomic_write_text
from genesis_lab.settings import get_settings

__all__ = ["read_metrics", "record_metrics"]


def _number(name: str, value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"metric {name!r}: {value!r} is not a number; record_metrics takes numbers only"
        ) from None
    if not math.isfinite(out):
        raise ParameterError(f"metric {name!r} is {out}; metrics must be finite")
    return out


def read_metrics(path: Path) -> dict[str, float | int]:
    """The metrics recorded in ``path`` so far (empty when none)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def record_metrics(**metrics: Any) -> dict[str, float | int]:
    """Record named numeric metrics of the current run; returns them.

    Outside a pipeline run nothing is written and the metrics are returned for display.

    >>> import genesis_lab as gl
    >>> gl.record_metrics(rmse=0.12, n_points=40)
    {'rmse': 0.12, 'n_points': 40}
    """
    clean = {name: _number(name, v) for name, v in metrics.items()}
    target = get_settings().metrics_file
    if target is None:
        return clean
    merged = read_metrics(target) | clean
    atomic_write_text(target, json.dumps(merged, indent=2, sort_keys=True), mode=0o644)
    return clean
