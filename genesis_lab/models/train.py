"""Train a surrogate (predictive model) on a catalog dataset, a sweep or a data frame.

Learners come from scikit-learn; rows are split once into train and held-out test sets, and the
held-out metrics go into the model card.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genesis_lab.errors import MissingDependencyError, ModelError
from genesis_lab.models.card import ModelCard
from genesis_lab.models.table import Table, as_table

__all__ = ["KINDS", "Model", "train"]

KINDS = {
    "gp": "Gaussian process (Matern-5/2 with per-feature length scales + white noise); gives std",
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

        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.ones(n_features), length_scale_bounds=(1e-2, 1e3), nu=2.5
        ) + WhiteKernel(1e-4, (1e-10, 1e0))
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

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"x": np.linspace(0, 1, 40)}); df["y"] = 3 * df.x + 1
    >>> m = train(df, "y", ["x"], kind="linear", model_id="semiconductors/demo-line")
    >>> round(float(m.predict({"x": [0.5]})[0]), 3)
    2.5
    """

    def __init__(self, estimator: Any, card: ModelCard) -> None:
        self.estimator = estimator
        self.card = card

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
        return arr

    @property
    def has_std(self) -> bool:
        return self.card.kind == "gp"

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted target (and its standard deviation for a GP with ``return_std=True``)."""
        arr = self._matrix(X)
        log = self.card.training_data.get("log_target", False)
        if return_std:
            if not self.has_std:
                raise ModelError(f"model {self.id} ({self.card.kind}) gives no uncertainty")
            mean, std = self.estimator.predict(arr, return_std=True)
            if log:  # lognormal: median and a first-order std
                mean = np.exp(mean)
                return mean, mean * std
            return mean, std
        pred = self.estimator.predict(arr)
        return np.exp(pred) if log else pred

    def save(self, folder: str | Path) -> Path:
        """Save the model file and its card into ``folder`` (see :mod:`genesis_lab.models.store`)."""
        from genesis_lab.models.store import save_model

        return save_model(self, Path(folder))

    def __repr__(self) -> str:
        m = ", ".join(f"{k}={v:.3g}" for k, v in self.card.metrics.items() if k in ("r2", "mae"))
        return f"<Model {self.id} {self.card.kind}: {self.card.target} ~ {self.features}; {m}>"


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
    seed: int = 0,
    log_target: bool = False,
    intended_use: str = "",
    limitations: Sequence[str] = (),
    version: str = "1",
) -> Model:
    """Train a model of ``target`` from ``features`` and evaluate it on held-out rows.

    ``data`` is a catalog dataset id, an ``xarray.Dataset`` (for example from
    ``genesis_lab.sweep``) or a ``pandas.DataFrame``. ``kind`` is one of :data:`KINDS`.
    ``log_target`` fits log(target) (for a positive target spanning decades).

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
    if not 0 < test_size < 1:
        raise ModelError(f"test_size={test_size!r} must be between 0 and 1")
    table = as_table(data, target, features)
    if log_target and (table.y <= 0).any():
        raise ModelError(f"log_target=True needs a positive target; {target!r} has values <= 0")
    idx_train, idx_test = train_test_split(
        np.arange(len(table.y)), test_size=test_size, random_state=seed
    )
    est = _estimator(kind, table.X.shape[1], seed)
    y_fit = np.log(table.y) if log_target else table.y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(table.X[idx_train], y_fit[idx_train])
    fit_warnings = sorted({str(w.message)[:200] for w in caught})
    card = _card(table, kind, est, model_id, title, description, test_size, seed, log_target,
                 intended_use, limitations, version, fit_warnings, len(idx_train))  # fmt: skip
    model = Model(est, card)
    card.metrics = evaluate(model, table.X[idx_test], table.y[idx_test], with_std=kind == "gp")
    return model


def _card(
    table: Table,
    kind: str,
    est: Any,
    model_id: str,
    title: str | None,
    description: str,
    test_size: float,
    seed: int,
    log_target: bool,
    intended_use: str,
    limitations: Sequence[str],
    version: str,
    fit_warnings: list[str],
    n_train: int,
) -> ModelCard:
    import sklearn

    from genesis_lab import __version__

    name = type(est.steps[-1][1]).__name__
    features = [
        {
            "name": f,
            "unit": table.units.get(f, ""),
            "min": float(table.X[:, i].min()),
            "max": float(table.X[:, i].max()),
        }
        for i, f in enumerate(table.features)
    ]
    lims = list(limitations) or []
    lims.append(
        "Valid only inside the training ranges of the features above; extrapolation is unchecked."
    )
    if fit_warnings:
        lims.append("The fit reported: " + " | ".join(fit_warnings))
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
            "rows_train": n_train,
            "rows_test": len(table.y) - n_train,
            "test_size": test_size,
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
