"""Campaign policies: ``bayes`` (optuna GPSampler, the default), ``random``, ``grid``, ``tpe``.

>>> from genesis_lab.agents.policies import POLICIES
>>> sorted(POLICIES)
['bayes', 'grid', 'random', 'tpe']
"""

from __future__ import annotations

from typing import Any

from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies.base import Policy, Suggestion
from genesis_lab.agents.space import Space
from genesis_lab.errors import CampaignError

__all__ = ["POLICIES", "Policy", "Suggestion", "make_policy"]

POLICIES = {
    "bayes": "Bayesian optimisation: optuna GPSampler (Matern-5/2 GP, log-EI); batches by "
    "one global log-EI point and local ones around the best (trust-region), Kriging believer, "
    "q-batch log-EI or constant liar; options: deterministic_objective=True for noise-free "
    "experiments, n_startup_trials, batch_strategy",
    "random": "uniform random search (optuna RandomSampler)",
    "grid": "full-factorial grid in a seeded random order",
    "tpe": "tree-structured Parzen estimator (optuna TPESampler)",
}


def make_policy(
    policy: str | Policy,
    space: Space,
    objective: Objective,
    *,
    budget: int,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
) -> Policy:
    """A policy by name (or the policy object given).

    >>> p = make_policy("random", Space.from_dict({"x": (0.0, 1.0)}), Objective.parse("y"), budget=5)
    >>> p.name
    'random'
    """
    if not isinstance(policy, str):
        return policy
    options = dict(options or {})
    if policy == "grid":
        from genesis_lab.agents.policies.grid import GridPolicy

        return GridPolicy(space, objective, budget=budget, seed=seed)
    if policy == "bayes":
        # initial random design of 2d+1 points (at most optuna's default of 10) before the GP
        options.setdefault("n_startup_trials", min(10, 2 * len(space.dimensions) + 1))
    if policy in ("bayes", "random", "tpe"):
        from genesis_lab.agents.policies.optuna_policy import OptunaPolicy

        return OptunaPolicy(policy, space, objective, seed=seed, **options)
    raise CampaignError(f"policy={policy!r} is not known; allowed values: {', '.join(POLICIES)}")
