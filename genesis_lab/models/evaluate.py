"""Held-out evaluation: R², MAE, RMSE, and calibration of predictive uncertainty when there is one.

Calibration is the share of held-out targets inside the central 68.27 % (one standard deviation)
and 95 % intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genesis_lab.models.calibration import z_of

__all__ = ["evaluate"]

ONE_SIGMA = 0.6826894921370859
"""The share of a normal distribution within one standard deviation, erf(1/sqrt(2))."""


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
        for level, key in ((ONE_SIGMA, "coverage_68"), (0.95, "coverage_95")):
            if hasattr(model, "predict_interval"):
                lo, hi = model.predict_interval(X, level)
            else:
                half = z_of(level) * std
                lo, hi = pred - half, pred + half
            out[key] = float(np.mean((y >= lo) & (y <= hi)))
        out["mean_std"] = float(np.mean(std))
    return out


def _has_std(model: Any) -> bool:
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(last).__name__ == "GaussianProcessRegressor"
