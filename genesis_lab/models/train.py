"""Train a surrogate (predictive model) on a catalog dataset, a sweep or a data frame.

Learners come from scikit-learn; rows are split once into train and held-out test sets (or the
test set is given), a Gaussian process's intervals are calibrated on rows held back from its fit,
and the held-out metrics go into the model card.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genesis_lab.errors import ExtrapolationWarning, MissingDependencyError, ModelError
from genesis_lab.models.calibration import (
    LEVEL,
    ROUGH_ROWS,
    calibration_scale,
    fit_note,
    z_of,
)
from genesis_lab.models.card import ModelCard
from genesis_lab.models.table import Table, as_table

__all__ = ["KINDS", "Model", "train"]

KINDS = {
    "gp": "Gaussian process (Matern-5/2 with per-feature length scales + white noise); gives a "
    "standard deviation calibrated so that 95 % intervals cover 95 % of held-back rows",
    "random_forest": "random forest of 200 trees",
    "gradient_boosting": "histogram gradient boosting",
    "linear": "ridge regression on standardised features",
}


def _sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise MissingDependencyError("scikit-learn", "models", "train models") from exc


def _estimator(kind: str, n_features: int, seed: int) -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        # features are standardised and normalize_y standardises the target, so these bounds
        # are in units of the data's spread; the noise floor (1e-8 of the target's variance)
        # keeps predictive variances above round-off for noise-free simulator data
        kernel = ConstantKernel(1.0, (1e-3, 1e5)) * Matern(
            length_scale=np.ones(n_features), length_scale_bounds=(1e-2, 1e4), nu=2.5
        ) + WhiteKernel(1e-4, (1e-8, 1e0))
        est = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed
        )
    elif kind == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        est = RandomForestRegressor(n_estimators=200, min_samples_leaf=1, random_state=seed)
    elif kind == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingRegressor

        est = HistGradientBoostingRegressor(max_iter=300, random_state=seed)
    elif kind == "linear":
        from sklearn.linear_model import RidgeCV

        est = RidgeCV(alphas=np.logspace(-6, 3, 20))
    else:
        raise ModelError(f"kind={kind!r} is not known; allowed values: {', '.join(KINDS)}")
    return make_pipeline(StandardScaler(), est)


class Model:
    """A trained model and its card; ``predict`` takes a mapping, a frame, a Dataset or an array.

    Inputs outside the feature ranges on the card give an :class:`ExtrapolationWarning`.

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"x": np.linspace(0, 1, 40)}); df["y"] = 3 * df.x + 1
    >>> m = train(df, "y", ["x"], kind="linear", model_id="semiconductors/demo-line")
    >>> round(float(m.predict({"x": [0.5]})[0]), 3)
    2.5
    """

    def __init__(self, estimator: Any, card: ModelCard) -> None:
        self.estimator = estimator
        self.card = card

    @classmethod
    def load(cls, folder: str | Path) -> Model:
        """A model saved by :meth:`save`, refusing changed or unsafe files.

        >>> m = Model.load("genesis_lab/models/shipped/melt-pool-width")  # doctest: +SKIP
        """
        from genesis_lab.models.store import load_model_dir

        return load_model_dir(Path(folder))

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def features(self) -> list[str]:
        return [f["name"] for f in self.card.features]

    def _matrix(self, X: Any) -> np.ndarray:
        if isinstance(X, np.ndarray):
            arr = np.atleast_2d(X).astype(np.float64)
        elif isinstance(X, Mapping) or hasattr(X, "columns") or hasattr(X, "data_vars"):
            missing = [f for f in self.features if f not in X]
            if missing:
                raise ModelError(
                    f"inputs {missing} are missing; model {self.id} needs {self.features}"
                )
            cols = [np.ravel(np.asarray(X[f], dtype=np.float64)) for f in self.features]
            arr = np.column_stack(np.broadcast_arrays(*cols))
        else:
            arr = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if arr.shape[1] != len(self.features):
            raise ModelError(
                f"inputs have {arr.shape[1]} columns; model {self.id} needs {self.features}"
            )
        self._warn_outside(arr)
        return arr

    def _warn_outside(self, arr: np.ndarray) -> None:
        outside = []
        for i, f in enumerate(self.card.features):
            lo, hi = f.get("min"), f.get("max")
            if lo is None or hi is None:
                continue
            col = arr[:, i]
            n = int(np.sum((col < lo) | (col > hi)))
            if n:
                unit = f" {f['unit']}" if f.get("unit") else ""
                outside.append(
                    f"{f['name']} ({n} of {len(col)} rows outside [{lo:.4g}, {hi:.4g}]{unit})"
                )
        if outside:
            warnings.warn(
                f"model {self.id} is asked to predict outside its training ranges: "
                f"{'; '.join(outside)}. Predictions there are extrapolation, not checked by the "
                "held-out metrics on its card.",
                ExtrapolationWarning,
                stacklevel=4,
            )

    @property
    def has_std(self) -> bool:
        return self.card.kind == "gp"

    @property
    def std_scale(self) -> float:
        """The factor calibration put on the GP's own standard deviation (1 if none)."""
        return float(self.card.calibration.get("std_scale", 1.0))

    def _fitted_space(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.has_std:
            raise ModelError(f"model {self.id} ({self.card.kind}) gives no uncertainty")
        mean, std = self.estimator.predict(arr, return_std=True)
        return mean, std * self.std_scale

    @property
    def _log(self) -> bool:
        return bool(self.card.training_data.get("log_target", False))

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted target (and its calibrated standard deviation for a GP with ``return_std``).

        For a model of log(target) the prediction is the median and the standard deviation a
        first-order one; :meth:`predict_interval` gives exact intervals.
        """
        arr = self._matrix(X)
        if return_std:
            mean, std = self._fitted_space(arr)
            if self._log:
                mean = np.exp(mean)
                return mean, mean * std
            return mean, std
        pred = self.estimator.predict(arr)
        return np.exp(pred) if self._log else pred

    def predict_interval(self, X: Any, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` prediction interval (lower, upper) of a GP.

        The calibration is made for 95 %; other levels use the same factor.

        >>> lo, hi = gl.load_model("advanced-manufacturing/melt-pool-width-gp").predict_interval(
        ...     {"power": [200.0], "speed": [0.8]})  # doctest: +SKIP
        """
        z = z_of(level)
        mean, std = self._fitted_space(self._matrix(X))
        lo, hi = mean - z * std, mean + z * std
        return (np.exp(lo), np.exp(hi)) if self._log else (lo, hi)

    def save(self, folder: str | Path) -> Path:
        """Save the model file and its card into ``folder`` (see :mod:`genesis_lab.models.store`)."""
        from genesis_lab.models.store import save_model

        return save_model(self, Path(folder))

    def __repr__(self) -> str:
        m = ", ".join(f"{k}={v:.3g}" for k, v in self.card.metrics.items() if k in ("r2", "mae"))
        return f"<Model {self.id} {self.card.kind}: {self.card.target} ~ {self.features}; {m}>"

    def _repr_html_(self) -> str:
        return self.card._repr_html_()


def train(
    data: Any,
    target: str,
    features: Sequence[str] | None = None,
    kind: str = "gp",
    *,
    model_id: str = "semiconductors/untitled-model",
    title: str | None = None,
    description: str = "",
    test_size: float = 0.2,
    test_data: Any = None,
    calibration_size: float = 0.25,
    seed: int = 0,
    log_target: bool = False,
    intended_use: str = "",
    limitations: Sequence[str] = (),
    version: str = "1",
) -> Model:
    """Train a model of ``target`` from ``features`` and evaluate it on held-out rows.

    ``data`` is a catalog dataset id, an ``xarray.Dataset`` (for example from
    ``genesis_lab.sweep``) or a ``pandas.DataFrame``. ``kind`` is one of :data:`KINDS`.
    ``log_target`` fits log(target) (for a positive target spanning decades). The held-out
    rows are a ``test_size`` share of ``data``, or all of ``test_data`` when given. A GP is fitted
    on all but a ``calibration_size`` share of the training rows; those calibrate its intervals
    (see :mod:`genesis_lab.models.calibration`).

    >>> import genesis_lab as gl  # doctest: +SKIP
    >>> ds = gl.sweep(gl.get_simulator("advanced-manufacturing/rosenthal-melt-pool"),
    ...               {"power": (100.0, 400.0), "speed": (0.2, 2.0)}, method="lhs", n=80,
    ...               progress=False)  # doctest: +SKIP
    >>> model = gl.train(ds, "melt_pool_width", ["power", "speed"], kind="gp")  # doctest: +SKIP
    >>> model.card.metrics["r2"] > 0.95  # doctest: +SKIP
    True
    """
    _sklearn()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split

    from genesis_lab.models.evaluate import evaluate

    if kind not in KINDS:
        raise ModelError(f"kind={kind!r} is not known; allowed values: {', '.join(KINDS)}")
    for label, share in (("test_size", test_size), ("calibration_size", calibration_size)):
        if not 0 < share < 1:
            raise ModelError(f"{label}={share!r} must be between 0 and 1")
    table = as_table(data, target, features)
    if log_target and (table.y <= 0).any():
        raise ModelError(f"log_target=True needs a positive target; {target!r} has values <= 0")
    rows = np.arange(len(table.y))
    if test_data is None:
        idx_train, idx_test = train_test_split(rows, test_size=test_size, random_state=seed)
        held_out = table.X[idx_test], table.y[idx_test]
    else:
        idx_train = rows
        test = as_table(test_data, target, table.features)
        held_out = test.X, test.y
    idx_fit, idx_cal = idx_train, idx_train[:0]
    if kind == "gp":
        idx_fit, idx_cal = train_test_split(
            idx_train, test_size=calibration_size, random_state=seed
        )
    est = _estimator(kind, table.X.shape[1], seed)
    y_fit = np.log(table.y) if log_target else table.y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(table.X[idx_fit], y_fit[idx_fit])
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    card = _card(table, idx_train, kind, est, model_id, title, description, seed, log_target,
                 intended_use, limitations, version, fit_note(messages, table.features,
                 calibrated=kind == "gp"), len(idx_fit), len(idx_cal))  # fmt: skip
    card.training_data["test_size"] = test_size if test_data is None else None
    card.training_data["rows_test"] = len(held_out[1])
    if test_data is not None:
        card.training_data["test_data"] = {**test.source, "sha256": test.sha256()}
    model = Model(est, card)
    if kind == "gp":
        mean, std = est.predict(table.X[idx_cal], return_std=True)
        card.calibration = {
            "method": "split conformal on rows held back from the fit",
            "level": LEVEL,
            "rows": len(idx_cal),
            "std_scale": calibration_scale(np.abs(y_fit[idx_cal] - mean) / np.maximum(std, 1e-300)),
        }
        if len(idx_cal) < ROUGH_ROWS:
            card.limitations.append(
                f"The 95 % intervals were calibrated on only {len(idx_cal)} rows, so their "
                "coverage is uncertain by several points; train on more rows for honest intervals."
            )
    with warnings.catch_warnings():  # held-out rows may lie just outside the training ranges
        warnings.simplefilter("ignore", ExtrapolationWarning)
        card.metrics = evaluate(model, *held_out, with_std=kind == "gp")
    return model


def _card(
    table: Table,
    idx_train: np.ndarray,
    kind: str,
    est: Any,
    model_id: str,
    title: str | None,
    description: str,
    seed: int,
    log_target: bool,
    intended_use: str,
    limitations: Sequence[str],
    version: str,
    note: str | None,
    n_fit: int,
    n_cal: int,
) -> ModelCard:
    import sklearn

    from genesis_lab import __version__

    name = type(est.steps[-1][1]).__name__
    X = table.X[idx_train]
    features = [
        {
            "name": f,
            "unit": table.units.get(f, ""),
            "min": float(X[:, i].min()),
            "max": float(X[:, i].max()),
        }
        for i, f in enumerate(table.features)
    ]
    lims = list(limitations)
    lims.append(
        "Valid only inside the training ranges of the features above; predicting outside them "
        "gives an ExtrapolationWarning."
    )
    if note:
        lims.append(note)
    return ModelCard(
        id=model_id,
        title=title or f"{table.target} from {', '.join(table.features)} ({kind})",
        kind=kind,
        target=table.target,
        target_unit=table.units.get(table.target, ""),
        features=features,
        version=version,
        description=description or KINDS[kind],
        domain=model_id.split("/", 1)[0],
        estimator=f"sklearn {name}",
        training_data={
            **table.source,
            "rows": len(table.y),
            "rows_train": len(idx_train),
            "rows_fit": n_fit,
            "rows_calibration": n_cal,
            "split_seed": seed,
            "sha256": table.sha256(),
            "log_target": log_target,
        },
        intended_use=intended_use
        or f"Fast estimates of {table.target} inside the training ranges, for screening and "
        "for campaigns; confirm promising points with the simulator or experiment.",
        limitations=lims,
        libraries={"scikit-learn": sklearn.__version__, "genesis-lab": __version__},
    )
