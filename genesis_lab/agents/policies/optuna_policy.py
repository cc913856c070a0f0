"""Policies on optuna's ask/tell interface: ``bayes`` (GPSampler), ``random``, ``tpe``.

GPSampler proposes a batch with q-batch log-EI over the trials still running (greedy
sequential selection), so ``ask(k)`` with k pending trials gives k distinct, informed points.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies.base import Suggestion
from genesis_lab.agents.space import Space
from genesis_lab.errors import MissingDependencyError

__all__ = ["OptunaPolicy"]


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise MissingDependencyError("optuna", "agents", "run Bayesian optimisation") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _distributions(optuna: Any, space: Space) -> dict[str, Any]:
    dists: dict[str, Any] = {}
    for d in space.dimensions:
        if d.type == "choice":
            dists[d.name] = optuna.distributions.CategoricalDistribution(list(d.choices))
        elif d.type == "int":
            assert d.bounds is not None
            dists[d.name] = optuna.distributions.IntDistribution(
                int(d.bounds[0]), int(d.bounds[1]), log=d.log
            )
        else:
            assert d.bounds is not None
            dists[d.name] = optuna.distributions.FloatDistribution(
                d.bounds[0], d.bounds[1], log=d.log
            )
    return dists


class OptunaPolicy:
    """A policy backed by an optuna study in memory and one of its samplers.

    >>> from genesis_lab.agents.space import Space
    >>> from genesis_lab.agents.objective import Objective
    >>> p = OptunaPolicy("random", Space.from_dict({"x": (0.0, 1.0)}), Objective.parse("y"), seed=1)
    >>> s = p.ask(2)[0]; p.tell(s.key, [s.params["x"] ** 2])
    """

    def __init__(
        self,
        name: str,
        space: Space,
        objective: Objective,
        *,
        seed: int | None = None,
        **options: Any,
    ) -> None:
        optuna = _optuna()
        self.name = name
        self._optuna = optuna
        self._objective = objective
        self._constraint_names = [c.name for c in objective.constraints]
        self._dists = _distributions(optuna, space)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = self._sampler(name, seed, options)
            self.study = optuna.create_study(directions=list(objective.directions), sampler=sampler)
        self._pending: dict[int, Any] = {}

    def _sampler(self, name: str, seed: int | None, options: dict[str, Any]) -> Any:
        samplers = self._optuna.samplers
        if name == "bayes":
            return samplers.GPSampler(seed=seed, **options)
        if name == "random":
            return samplers.RandomSampler(seed=seed, **options)
        if name == "tpe":
            return samplers.TPESampler(seed=seed, **options)
        raise ValueError(name)

    def ask(self, n: int) -> list[Suggestion]:
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self._optuna.exceptions.ExperimentalWarning)
            for _ in range(n):
                trial = self.study.ask(self._dists)
                self._pending[trial.number] = trial
                out.append(Suggestion(trial.number, dict(trial.params)))
        return out

    def tell(
        self, key: Any, values: Sequence[float] | None, violations: Sequence[float] = ()
    ) -> None:
        trial = self._pending.pop(key)
        if values is None:
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            return
        for name, v in zip(self._constraint_names, violations, strict=True):
            trial.set_constraint(name, float(v))
        self.study.tell(trial, list(values))

    def replay(
        self,
        params: Mapping[str, Any],
        values: Sequence[float] | None,
        violations: Sequence[float] = (),
    ) -> None:
        TrialState = self._optuna.trial.TrialState
        kwargs: dict[str, Any] = {"params": dict(params), "distributions": self._dists}
        if values is None:
            kwargs["state"] = TrialState.FAIL
        else:
            kwargs["values"] = list(values)
            if self._constraint_names:
                kwargs["constraints"] = dict(
                    zip(self._constraint_names, map(float, violations), strict=True)
                )
        self.study.add_trial(self._optuna.trial.create_trial(**kwargs))
