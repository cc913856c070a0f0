"""Batches of the ``bayes`` policy: every strategy proposes k distinct points in the space."""

from __future__ import annotations

import numpy as np
import pytest

from genesis_lab.agents import Campaign, Space
from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies import make_policy
from genesis_lab.agents.policies.optuna_policy import BATCH_STRATEGIES

MIXED = Space.from_dict(
    {"x": (-2.0, 3.0), "rate": ("log", 1e-4, 1e-1), "n": ("int", 1, 6), "mode": ["a", "b", "c"]}
)


def _mixed(p):
    bonus = {"a": 0.0, "b": -0.5, "c": 0.3}[p["mode"]]
    return (p["x"] - 1.0) ** 2 + (np.log10(p["rate"]) + 2.0) ** 2 + 0.1 * p["n"] + bonus


def _in_space(params):
    return (
        -2.0 <= params["x"] <= 3.0
        and 1e-4 <= params["rate"] <= 1e-1
        and isinstance(params["n"], int)
        and 1 <= params["n"] <= 6
        and params["mode"] in ("a", "b", "c")
    )


def _policy(space, strategy, seed=0, **options):
    return make_policy("bayes", space, Objective.parse("y"), budget=40, seed=seed,
                       options={"batch_strategy": strategy, "deterministic_objective": True,
                                **options})  # fmt: skip


@pytest.mark.parametrize("strategy", BATCH_STRATEGIES)
def test_every_strategy_proposes_k_distinct_points_in_the_space(strategy):
    p = _policy(MIXED, strategy)
    rng = np.random.default_rng(0)
    for _ in range(10):  # the policy's random start is over: the GP proposes
        params = {"x": rng.uniform(-2, 3), "rate": 10 ** rng.uniform(-4, -1),
                  "n": int(rng.integers(1, 7)), "mode": str(rng.choice(["a", "b", "c"]))}  # fmt: skip
        p.replay(params, [_mixed(params)])
    seen = set()
    for _ in range(2):
        batch = p.ask(4)
        assert len(batch) == 4
        points = {tuple(s.params[k] for k in MIXED.names) for s in batch}
        assert len(points) == 4 and not points & seen
        assert all(_in_space(s.params) for s in batch), [s.params for s in batch]
        seen |= points
        for s in batch:
            p.tell(s.key, [_mixed(s.params)])


def test_trust_region_puts_all_but_the_first_point_near_the_best():
    # nothing known above x=4.5, so log-EI is highest out there: the first point goes there;
    # in one dimension the box is +-0.2 of the range around the best trial (x=2.5), i.e. +-2
    space = Space.from_dict({"x": (0.0, 10.0)})
    p = _policy(space, "trust-region")
    for x in (0.5, 1.5, 2.5, 3.5, 4.5):
        p.replay({"x": x}, [(x - 2.2) ** 2])
    xs = [s.params["x"] for s in p.ask(5)]
    assert len(set(xs)) == 5
    assert xs[0] > 4.5 and all(0.5 <= x <= 4.5 for x in xs[1:]), xs


def test_points_still_running_are_not_proposed_again():
    space = Space.from_dict({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    p = _policy(space, "trust-region")
    for i in range(8):
        x, y = (i * 0.37) % 1, (i * 0.61) % 1
        p.replay({"x": x, "y": y}, [(x - 0.3) ** 2 + (y - 0.6) ** 2])
    first = p.ask(3)
    second = p.ask(3)  # nothing told yet: the first three are still running
    points = [(s.params["x"], s.params["y"]) for s in first + second]
    assert len(set(points)) == 6
    nearest = min(np.hypot(a[0] - b[0], a[1] - b[1]) for a in points[:3] for b in points[3:])
    assert nearest > 1e-4


@pytest.mark.parametrize("objective", ["constrained", "two objectives"])
def test_batches_with_constraints_or_two_objectives_use_gpsampler_q_batch(objective):
    f = lambda p: {"y": (p["x"] - 0.2) ** 2, "z": (p["x"] - 0.8) ** 2}  # noqa: E731
    kwargs = (
        {"objective": "y", "constraints": {"z": ("<=", 0.3)}}
        if objective == "constrained"
        else {"objective": {"y": "min", "z": "min"}}
    )
    c = Campaign({"x": (0.0, 1.0)}, policy="bayes", batch_size=3, budget=12, experiment=f,
                 seed=0, **kwargs)  # fmt: skip
    c.run()
    xs = [t["params"]["x"] for t in c.trials]
    assert len(xs) == 12 and len(set(xs)) == 12 and c.stats["rounds"] == 4
