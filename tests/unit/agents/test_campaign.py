"""Campaigns: policies on known functions, constraints, Pareto fronts, failures, results."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from genesis_lab.agents import Campaign, Space
from genesis_lab.agents.benchmark_functions import BRANIN
from genesis_lab.errors import CampaignError, ParameterError, UnknownOutputError


def test_bayes_finds_branin_minimum_at_small_budget():
    c = Campaign(BRANIN.space, "y", "bayes", budget=25, experiment=BRANIN.function, seed=3)
    c.run()
    assert len(c.trials) == 25
    regret = BRANIN.regret(c.best()["values"][0])
    assert regret < 0.05, regret
    # the campaign is the library's ask/tell loop: random search at the same budget is far worse
    r = Campaign(BRANIN.space, "y", "random", budget=25, experiment=BRANIN.function, seed=3)
    assert BRANIN.regret(r.run().best()["values"][0]) > regret


def test_random_and_grid_baselines_stay_in_the_space():
    space = Space.from_dict({"x": (0.0, 1.0), "k": ("int", 1, 3)})
    f = lambda p: {"y": p["x"] * p["k"]}  # noqa: E731
    r = Campaign(space, "y", "random", budget=12, experiment=f, seed=0).run()
    xs = [t["params"]["x"] for t in r.trials]
    assert all(0 <= x <= 1 for x in xs) and len(set(xs)) == 12
    assert {t["params"]["k"] for t in r.trials} <= {1, 2, 3}
    g = Campaign(space, "y", "grid", budget=9, experiment=f, seed=0).run()
    got = sorted((t["params"]["x"], t["params"]["k"]) for t in g.trials)
    assert got == sorted(itertools.product([0.0, 0.5, 1.0], [1, 2, 3]))
    assert g.best()["values"] == [0.0]


def test_grid_campaign_stops_when_the_grid_is_spent():
    c = Campaign({"m": ["a", "b"]}, "y", "grid", budget=10, experiment=lambda p: {"y": 1.0})
    c.run()
    assert len(c.trials) == 2


@pytest.mark.parametrize("policy", ["random", "bayes"])
def test_constraints_keep_the_best_feasible(policy):
    c = Campaign(
        {"x": (-2.0, 2.0)},
        "y",
        policy,
        constraints={"x_out": ("<=", 0.5)},
        budget=16,
        experiment=lambda p: {"y": (p["x"] - 1.0) ** 2, "x_out": p["x"]},
        seed=1,
    )
    c.run()
    trials = c.trials
    assert all(t["feasible"] == (t["params"]["x"] <= 0.5) for t in trials)
    best = c.best()
    assert best["params"]["x"] <= 0.5
    feasible = [t["values"][0] for t in trials if t["params"]["x"] <= 0.5]
    assert best["values"][0] == min(feasible)
    if policy == "bayes":
        assert best["params"]["x"] > 0.2  # it learned to push towards the boundary


def _brute_force_front(points):
    front = []
    for i, p in enumerate(points):
        dominated = False
        for j, q in enumerate(points):
            if (
                i != j
                and all(a <= b for a, b in zip(q, p, strict=False))
                and any(a < b for a, b in zip(q, p, strict=False))
            ):
                dominated = True
        if not dominated:
            front.append(tuple(p))
    return sorted(front)


@pytest.mark.parametrize("policy", ["random", "bayes"])
def test_pareto_front_matches_brute_force(policy):
    # maximise a, minimise b: signs flip the first objective for the brute force
    def f(p):
        return {"a": np.sin(3 * p["x"]) + p["y"], "b": (p["x"] - 0.3) ** 2 + p["y"] ** 2}

    c = Campaign(
        {"x": (0.0, 1.0), "y": (0.0, 1.0)},
        {"a": "max", "b": "min"},
        policy,
        budget=30 if policy == "random" else 13,
        experiment=f,
        seed=2,
    )
    c.run()
    front = c.pareto_front()
    signed = [(-t["values"][0], t["values"][1]) for t in c.trials]
    expected = _brute_force_front(signed)
    assert sorted((-t["values"][0], t["values"][1]) for t in front) == expected
    assert 1 <= len(front) < len(c.trials)
    with pytest.raises(CampaignError, match="pareto_front"):
        c.best()


def test_failed_trials_are_recorded_and_the_campaign_goes_on():
    def flaky(p):
        if p["x"] > 0.6:
            raise RuntimeError(f"furnace tripped at x={p['x']:.2f}")
        return {"y": p["x"]}

    c = Campaign({"x": (0.0, 1.0)}, "y", "random", budget=20, experiment=flaky, seed=0)
    c.run()
    trials = c.trials
    failed = [t for t in trials if t["status"] == "failed"]
    assert len(trials) == 20 and failed
    assert all("furnace tripped" in t["error"] and t["params"]["x"] > 0.6 for t in failed)
    assert c.best()["params"]["x"] <= 0.6
    assert c.status()["failed"] == len(failed)


class CountingSimulator:
    """Michaelis-Menten, counting its runs (the campaign runs it in this process)."""

    def __init__(self):
        from genesis_lab.simulators import get_simulator

        self.sim = get_simulator("biotechnology/michaelis-menten")
        self.runs = 0

    def __getattr__(self, name):
        return getattr(self.sim, name)

    def run(self, params, seed=None):
        self.runs += 1
        return self.sim.run(params, seed=seed)


@pytest.mark.parametrize(
    ("objective", "constraints", "field", "suggestion"),
    [
        ("half_convertion_time", None, "objective 'half_convertion_time'", "half_conversion_time"),
        ({"conversion": "max"}, {"final_substrat": ("<=", 1.0)}, "constraint 'final_substrat'",
         "final_substrate"),
    ],
)  # fmt: skip
def test_misspelt_names_are_refused_before_the_first_trial(objective, constraints, field,
                                                           suggestion):  # fmt: skip
    sim = CountingSimulator()
    space = {"s0": (1.0, 10.0), "km": (0.5, 2.0)}
    with pytest.raises(UnknownOutputError) as err:
        Campaign(space, objective, "random", budget=5, experiment=sim, constraints=constraints)
    message = str(err.value)
    assert field in message and f"Did you mean {suggestion!r}" in message
    # the allowed values are the simulator's scalar outputs, written out here
    for name in ("half_conversion_time", "final_substrate", "conversion"):
        assert name in message and name in err.value.allowed
    assert isinstance(err.value, ParameterError) and isinstance(err.value, CampaignError)
    assert sim.runs == 0


def test_a_right_name_runs_and_best_has_params_and_value():
    sim = CountingSimulator()
    c = Campaign({"s0": (1.0, 10.0)}, {"conversion": "max"}, "random", budget=4,
                 experiment=sim, seed=0, fixed={"t_end": 1.0})  # fmt: skip
    best = c.run().best()
    assert sim.runs == 4
    conversions = [t["values"][0] for t in c.trials]
    assert best.value == max(conversions) == best["values"][0]
    assert best.params == best["params"] and c.best_params == best.params
    assert c.best_value == best.value
    assert best.params["s0"] == next(
        t["params"]["s0"] for t in c.trials if t["values"][0] == max(conversions)
    )


def test_a_function_missing_the_objective_stops_after_its_first_result():
    calls = []

    def f(p):
        calls.append(p)
        return {"z": 1.0}

    c = Campaign({"x": (0.0, 1.0)}, "y", "random", budget=6, experiment=f)
    with pytest.raises(UnknownOutputError, match=r"objective 'y'.*allowed values: z"):
        c.run()
    assert len(calls) == 1  # not the whole budget
    assert [t["status"] for t in c.trials] == ["failed"]
    assert "no output 'y'" in c.trials[0]["error"]


def test_every_trial_failing_raises_with_the_errors():
    def broken(p):
        raise RuntimeError("the furnace is off")

    c = Campaign({"x": (0.0, 1.0)}, "y", "random", budget=3, experiment=broken, seed=0)
    with pytest.raises(CampaignError, match=r"every one of its 3 trials failed.*furnace is off"):
        c.run()
    assert [t["status"] for t in c.trials] == ["failed"] * 3
    with pytest.raises(CampaignError, match="no feasible trial"):
        c.best_value  # noqa: B018


def test_same_name_resumes_and_other_settings_are_refused():
    f = lambda p: {"y": p["x"]}  # noqa: E731
    Campaign({"x": (0.0, 1.0)}, "y", "random", budget=4, experiment=f, name="c1", seed=0).run()
    c = Campaign({"x": (0.0, 1.0)}, "y", "random", budget=7, experiment=f, name="c1", seed=0)
    c.run()
    xs = [t["params"]["x"] for t in c.trials]
    assert len(xs) == 7 and len(set(xs)) == 7
    assert [t["number"] for t in c.trials] == list(range(7))
    with pytest.raises(CampaignError, match="other space"):
        Campaign({"x": (0.0, 2.0)}, "y", "random", budget=7, experiment=f, name="c1", seed=0)
    reopened = Campaign.open("c1")
    assert reopened.status()["trials"] == 7 and reopened.status()["finished"]


def test_results_dataset_and_plot():
    c = Campaign(BRANIN.space, "y", "random", budget=10, experiment=BRANIN.function, seed=0)
    c.run()
    ds = c.to_dataset()
    assert ds.sizes["trial"] == 10
    assert set(ds.data_vars) >= {"x1", "x2", "y", "status", "best_so_far", "duration_s"}
    bsf = ds["best_so_far"].values
    assert np.all(np.diff(bsf) <= 0) and bsf[-1] == ds["y"].values.min()
    spec = json.loads(ds.attrs["campaign_spec"])
    assert spec["policy"] == "random" and spec["budget"] == 10
    assert "branin" in ds.attrs["experiment"]
    import holoviews as hv

    plot = c.plot_convergence()
    assert isinstance(plot, hv.Overlay)
    (curve,) = [el for el in plot if isinstance(el, hv.Curve)]
    assert np.allclose(curve.dimension_values(1), bsf)


def test_bad_campaign_arguments():
    with pytest.raises(CampaignError, match="batch_size=0"):
        Campaign({"x": (0.0, 1.0)}, "y", budget=3, batch_size=0)
    with pytest.raises(CampaignError, match=r"policy='smart'.*bayes"):
        Campaign({"x": (0.0, 1.0)}, "y", "smart", experiment=lambda p: {"y": 0}).run()
    with pytest.raises(CampaignError, match="no experiment"):
        Campaign({"x": (0.0, 1.0)}, "y", "random").run()
    with pytest.raises(CampaignError, match="campaign name"):
        Campaign({"x": (0.0, 1.0)}, "y", name="../etc")


def test_bad_batch_strategy_names_the_allowed_ones():
    c = Campaign({"x": (0.0, 1.0)}, "y", "bayes", experiment=lambda p: {"y": p["x"]},
                 policy_options={"batch_strategy": "guess"})  # fmt: skip
    with pytest.raises(CampaignError, match=r"batch_strategy='guess'.*liar-worst"):
        c.run()


def test_notebook_view_shows_the_campaign_and_its_best():
    c = Campaign({"x<": (0.0, 1.0)}, "y", "random", budget=3, name="view-test", seed=0,
                 experiment=lambda p: {"y": (p["x<"] - 0.25) ** 2})  # fmt: skip
    c.run()
    html = c._repr_html_()
    best = min(t["values"][0] for t in c.trials)
    assert "Campaign view-test" in html and "3 of 3 (3 complete, 0 failed)" in html
    assert f"{best:.6g}" in html and "minimize y" in html
    assert "x&lt;" in html and "x<" not in html  # names are escaped
