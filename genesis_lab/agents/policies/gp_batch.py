"""Batches for the ``bayes`` policy on optuna's own GP: one global log-EI point, the rest local.

``trust-region`` (the campaign's default batch strategy) fits GPSampler's GP once per batch, takes
the log-EI argmax over the whole space as the first point (what the sequential policy would run),
then proposes each further point by log-EI inside a box around the incumbent, on the GP that
believes its posterior mean at the points already chosen (Kriging believer, with the improvement
threshold raised to the best believed value). The box has half-width 0.2 times each parameter's
lengthscale over their geometric mean, in the unit cube. ``believer`` is the same without the box.

Measured (benchmarks/bench_agents.py and a prototype of the same code), Hartmann-6 in batches of
4, regret @48 evaluations, median of seeds 0..9: sequential GPSampler 0.0071, trust-region 0.0011,
believer 0.014, liar-mean 0.030, liar-worst 0.031, liar-best 0.047, pending (GPSampler's q-batch
log-EI over running trials) 0.15; seeds 10..29: trust-region 0.0049, sequential 0.011. Branin @32
in batches of 4, seeds 0..9: trust-region 0.00019, believer 0.0037, pending 0.0056, liar-mean
0.028, liar-worst 0.099, sequential 0.00034. Tried and dropped (Hartmann-6 @48, seeds 0..9):
local penalisation 0.031, Thompson sampling 0.018-0.023, the believer without the raised
threshold 0.31, the posterior-mean argmax as a batch member 0.16-0.21. The box's half-width was
chosen on seeds 0..29: 0.05 / 0.1 / 0.2 / 0.4 gave 0.0098 / 0.0027 / 0.0012 / 0.0054.

This module uses optuna's private ``optuna._gp`` package, so the ``agents`` extra pins optuna 5.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import torch
from optuna._gp import acqf as acqf_module
from optuna._gp import gp, optim_mixed, prior
from optuna._gp.search_space import SearchSpace
from optuna.samplers._gp.sampler import _standardize_values

__all__ = ["GP_BATCH_STRATEGIES", "TRUST_REGION_HALF_WIDTH", "GPBatchProposer"]

GP_BATCH_STRATEGIES = ("trust-region", "believer")
TRUST_REGION_HALF_WIDTH = 0.2
"""Half-width of the local box in the unit cube, scaled per parameter by its relative lengthscale."""

# GPSampler's settings for optimising an acquisition function (optuna 5.0)
_N_PRELIMINARY_SAMPLES = 2048
_N_LOCAL_SEARCH = 10
_TOL = 1e-4


class _InBox(acqf_module.BaseAcquisitionFunc):
    """An acquisition function seen on the box ``[lo, hi]``, rescaled to the unit cube.

    Discrete and categorical parameters keep ``lo=0, hi=1`` (the identity), so the optimiser's
    grids for them stay valid.
    """

    def __init__(self, inner: acqf_module.BaseAcquisitionFunc, lo: np.ndarray, hi: np.ndarray):
        self._inner = inner
        self._lo, self._width = lo, hi - lo
        self._lo_t, self._width_t = torch.from_numpy(lo), torch.from_numpy(hi - lo)
        super().__init__(inner.length_scales / self._width, inner.search_space)

    def eval_acqf(self, x: torch.Tensor) -> torch.Tensor:
        return self._inner.eval_acqf(self._lo_t + x * self._width_t)

    def outer(self, x: np.ndarray) -> np.ndarray:
        return self._lo + x * self._width


class GPBatchProposer:
    """Proposes batches for one objective from an optuna study's complete trials.

    ``search_space`` maps parameter names to optuna distributions (none single-valued);
    the GP's hyperparameters are kept between batches as the start of the next fit, as
    GPSampler does.

    >>> import optuna
    >>> dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    >>> study = optuna.create_study()
    >>> for x in (0.1, 0.5, 0.9):
    ...     study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=dists,
    ...                                               value=(x - 0.4) ** 2))
    >>> batch = GPBatchProposer(dists, seed=0).propose(study.trials, [], 3)
    >>> len(batch), all(0.0 <= p["x"] <= 1.0 for p in batch)
    (3, True)
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        strategy: str = "trust-region",
        minimize: bool = True,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> None:
        if strategy not in GP_BATCH_STRATEGIES:
            raise ValueError(f"strategy={strategy!r}; allowed: {', '.join(GP_BATCH_STRATEGIES)}")
        self.strategy = strategy
        self._space = SearchSpace(dict(search_space))
        self._sign = -1.0 if minimize else 1.0
        self._deterministic = deterministic
        self._rng = np.random.RandomState(seed)
        self._gpr_cache: gp.GPRegressor | None = None

    def propose(
        self,
        complete: Sequence[optuna.trial.FrozenTrial],
        running: Sequence[Any],
        k: int,
    ) -> list[dict[str, Any]]:
        """``k`` points given the complete trials and the trials still running (their params)."""
        with torch.device("cpu"):
            X = self._space.get_normalized_params(list(complete))
            y = _standardize_values(self._sign * np.array([t.values for t in complete]))[0][:, 0]
            gpr = self._fit(X, y)
            X_best = X[np.argmax(y), np.newaxis]
            chosen: list[np.ndarray] = []
            if running:
                chosen = list(self._space.get_normalized_params(list(running)))
            n_running = len(chosen)
            while len(chosen) - n_running < k:
                if chosen:
                    believer, threshold = self._believe(gpr, X, y, np.array(chosen))
                    logei = acqf_module.LogEI(believer, self._space, threshold)
                else:
                    logei = acqf_module.LogEI(gpr, self._space, float(y.max()))
                if len(chosen) == n_running or self.strategy == "believer":
                    chosen.append(self._argmax(logei, X_best))
                else:
                    chosen.append(self._argmax_near(logei, X_best[0], gpr.length_scales))
        return [self._space.get_unnormalized_param(x) for x in chosen[n_running:]]

    def _fit(self, X: np.ndarray, y: np.ndarray) -> gp.GPRegressor:
        self._gpr_cache = gp.fit_kernel_params(
            X=X,
            Y=y,
            is_categorical=self._space.is_categorical,
            log_prior=prior.default_log_prior,
            minimum_noise=prior.DEFAULT_MINIMUM_NOISE_VAR,
            gpr_cache=self._gpr_cache,
            deterministic_objective=self._deterministic,
        )
        return self._gpr_cache

    def _believe(
        self, gpr: gp.GPRegressor, X: np.ndarray, y: np.ndarray, X_chosen: np.ndarray
    ) -> tuple[gp.GPRegressor, float]:
        """The GP (same hyperparameters) told its own posterior mean at ``X_chosen``."""
        with torch.no_grad():
            believed = gpr.posterior(torch.from_numpy(X_chosen))[0]
        out = gp.GPRegressor(
            is_categorical=torch.from_numpy(self._space.is_categorical),
            X_train=torch.from_numpy(np.vstack([X, X_chosen])),
            y_train=torch.cat([torch.from_numpy(y), believed]),
            inverse_squared_lengthscales=gpr.inverse_squared_lengthscales.clone(),
            kernel_scale=gpr.kernel_scale.clone(),
            noise_var=gpr.noise_var.clone(),
        )
        out._cache_matrix()
        # without raising the threshold, a believed value above the best makes its
        # neighbourhood look like an improvement and the batch piles up there
        return out, max(float(y.max()), float(believed.max()))

    def _argmax(self, acqf: acqf_module.BaseAcquisitionFunc, warm: np.ndarray) -> np.ndarray:
        x, _ = optim_mixed.optimize_acqf_mixed(
            acqf,
            warmstart_normalized_params_array=warm,
            n_preliminary_samples=_N_PRELIMINARY_SAMPLES,
            n_local_search=_N_LOCAL_SEARCH,
            tol=_TOL,
            rng=self._rng,
        )
        return x

    def _argmax_near(
        self, acqf: acqf_module.BaseAcquisitionFunc, center: np.ndarray, lengthscales: np.ndarray
    ) -> np.ndarray:
        lo, hi = np.zeros(self._space.dim), np.ones(self._space.dim)
        cont = self._space.continuous_indices
        if len(cont):
            ls = lengthscales[cont]
            half = np.minimum(TRUST_REGION_HALF_WIDTH * ls / np.exp(np.log(ls).mean()), 0.5)
            lo[cont] = np.clip(center[cont] - half, 0.0, 1.0)
            hi[cont] = np.clip(center[cont] + half, 0.0, 1.0)
        boxed = _InBox(acqf, lo, hi)
        warm = center.copy()
        warm[cont] = (center[cont] - lo[cont]) / (hi[cont] - lo[cont])
        return boxed.outer(self._argmax(boxed, warm[np.newaxis]))
