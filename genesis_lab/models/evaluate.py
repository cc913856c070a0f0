"""Held-out evaluation: R², MAE, RMSE, and calibration of predictive uncertainty when there is one.

Calibration is the share of held-out targets inside the central 68 % and 95 % intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["evaluate"]


def evaluate(
    model: Any, X: np.ndarray, y: np.ndarray, *, with_std: bool | None = None
) -> dict[str, float]:
    """Metrics of ``model`` (anything with ``predict``) on held-out rows.

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0)[:, None]; m = LinearRegression().fit(X, 2 * X[:, 0])
    >>> round(evaluate(m, X, 2 * X[:, 0])["r2"], 6)
    1.0
    """
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    std = None
    if with_std is None:
        with_std = _has_std(model)
    if with_std:
        pred, std = model.predict(X, return_std=True)
    else:
        pred = model.predict(X)
    out = {
        "r2": float(r2_score(y, pred)),
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(root_mean_squared_error(y, pred)),
        "n_test": float(len(y)),
    }
    if std is not None:
        z = np.abs(y - pred) / np.maximum(std, 1e-300)
        out["coverage_68"] = float(np.mean(z <= 1.0))
        out["coverage_95"] = float(np.mean(z <= 1.96))
        out["mean_std"] = float(np.mean(std))
    return out


def _has_std(model: Any) -> bool:
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(last).__name__ == "GaussianProcessRegressor"
