"""Policies on optuna's ask/tell interface: ``bayes`` (GPSampler), ``random``, ``tpe``.

One point at a time, ``bayes`` is GPSampler unchanged. A batch (``ask(k)``, k > 1) of ``bayes``
is by default the ``trust-region`` strategy of :mod:`~genesis_lab.agents.policies.gp_batch`
(one global log-EI point, the rest local), which met the sequential policy's regret on
Hartmann-6 and Branin in a quarter of the rounds; see ``BATCH_STRATEGIES`` for the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies.base import Suggestion
from genesis_lab.agents.space import Space
from genesis_lab.errors import CampaignError, MissingDependencyError

__all__ = ["BATCH_STRATEGIES", "DEFAULT_BATCH_STRATEGY", "OptunaPolicy"]

BATCH_STRATEGIES = ("trust-region", "believer", "pending", "liar-worst", "liar-mean", "liar-best")
"""How ``bayes`` proposes a batch. ``trust-region`` (the default) and ``believer`` fit GPSampler's
GP once and pick the points with log-EI on a Kriging believer (``gp_batch``), for one objective
without constraints; with several objectives or constraints they fall back to ``pending``.
``pending`` lets GPSampler see the running trials (its greedy q-batch log-EI). ``liar-*`` is the
constant liar: each point is proposed in a copy of the study and told a fake value (the worst,
mean or best seen) before the next; one objective. Regret @48 on Hartmann-6 in batches of 4,
median of seeds 0..9 (sequential 0.0071): trust-region 0.0011, believer 0.014, liar-mean 0.030,
liar-worst 0.031, liar-best 0.047, pending 0.15 (more in ``gp_batch``, and bench_agents.py)."""
DEFAULT_BATCH_STRATEGY = "trust-region"
_LIARS = ("liar-worst", "liar-mean", "liar-best")


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
        self.batch_strategy = options.pop("batch_strategy", DEFAULT_BATCH_STRATEGY)
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
        self._gp_batch: Any = None

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
        single = len(self._objective.targets) == 1
        if n > 1 and self.name == "bayes" and single and not self._constraint_names:
            from genesis_lab.agents.policies.gp_batch import GP_BATCH_STRATEGIES

            if self.batch_strategy in GP_BATCH_STRATEGIES:
                return self._ask_gp_batch(n)
        if n > 1 and self.batch_strategy in _LIARS and single:
            return self._ask_with_liar(n)
        return self._ask_plain(n)

    def _ask_plain(self, n: int) -> list[Suggestion]:
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self._optuna.exceptions.ExperimentalWarning)
            for _ in range(n):
                trial = self.study.ask(self._dists)
                self._pending[trial.number] = trial
                out.append(Suggestion(trial.number, dict(trial.params)))
        return out

    def _ask_gp_batch(self, n: int) -> list[Suggestion]:
        """GPSampler's random start until ``n_startup_trials`` are complete, then ``gp_batch``."""
        from genesis_lab.agents.policies.gp_batch import GPBatchProposer

        optuna = self._optuna
        complete = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        n_startup = self._options.get("n_startup_trials", 10)
        n_random = n if len(complete) < 2 else min(n, max(0, n_startup - len(complete)))
        searched = {k: d for k, d in self._dists.items() if not d.single()}
        if not searched:
            n_random = n
        out = self._ask_plain(n_random)
        if n_random == n:
            return out
        if self._gp_batch is None:
            self._gp_batch = GPBatchProposer(
                searched,
                strategy=self.batch_strategy,
                minimize=self._objective.targets[0].direction == "minimize",
                deterministic=bool(self._options.get("deterministic_objective", False)),
                seed=self._seed,
            )
        running = list(self._pending.values())
        for params in self._gp_batch.propose(complete, running, n - n_random):
            self.study.enqueue_trial(params, skip_if_exists=False)
            out.extend(self._ask_plain(1))
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
