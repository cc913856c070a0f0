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
from genesis_lab.errors import CampaignError, MissingDependencyError

__all__ = ["BATCH_STRATEGIES", "OptunaPolicy"]

BATCH_STRATEGIES = ("pending", "liar-worst", "liar-mean", "liar-best")
"""How a batch is proposed. ``pending`` (the default) lets GPSampler see the running trials
(its q-batch log-EI). ``liar-*`` is the constant liar: each point of the batch is proposed in a
copy of the study and told a fake value (the worst, mean or best seen) before the next; it
applies to one objective. Neither wins everywhere: on Hartmann-6 @48 liar-worst did better,
on Branin @32 pending did (benchmarks/bench_agents.py)."""


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
        self.batch_strategy = options.pop("batch_strategy", "pending")
        if self.batch_strategy not in BATCH_STRATEGIES:
            raise CampaignError(
                f"batch_strategy={self.batch_strategy!r} is not known; allowed values: "
                f"{', '.join(BATCH_STRATEGIES)}"
            )
        self._seed = seed
        self._options = dict(options)
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
        if n > 1 and self.batch_strategy != "pending" and len(self._objective.targets) == 1:
            return self._ask_with_liar(n)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self._optuna.exceptions.ExperimentalWarning)
            for _ in range(n):
                trial = self.study.ask(self._dists)
                self._pending[trial.number] = trial
                out.append(Suggestion(trial.number, dict(trial.params)))
        return out

    def _ask_with_liar(self, n: int) -> list[Suggestion]:
        """Constant liar: propose one point at a time in a copy of the study, telling it a lie."""
        optuna = self._optuna
        done = [t for t in self.study.get_trials(deepcopy=False)
                if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)]  # fmt: skip
        values = [t.value for t in done if t.state == optuna.trial.TrialState.COMPLETE]
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            seed = None if self._seed is None else self._seed + len(done)
            shadow = optuna.create_study(
                directions=list(self._objective.directions),
                sampler=self._sampler(self.name, seed, dict(self._options)),
            )
            shadow.add_trials(done)
            minimize = self._objective.targets[0].direction == "minimize"
            for _ in range(n):
                trial = shadow.ask(self._dists)
                params = dict(trial.params)
                if values:
                    lie = {
                        "liar-best": min(values) if minimize else max(values),
                        "liar-mean": sum(values) / len(values),
                        "liar-worst": max(values) if minimize else min(values),
                    }[self.batch_strategy]
                    shadow.tell(trial, lie)
                else:
                    shadow.tell(trial, state=optuna.trial.TrialState.FAIL)
                self.study.enqueue_trial(params, skip_if_exists=False)
                real = self.study.ask(self._dists)
                self._pending[real.number] = real
                out.append(Suggestion(real.number, dict(real.params)))
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
