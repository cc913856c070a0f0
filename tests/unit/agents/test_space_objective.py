"""Design spaces and objectives: parsing, checking, grids, and the errors for bad input."""

from __future__ import annotations

import pytest

from genesis_lab.agents import Constraint, Dimension, Objective, Space
from genesis_lab.agents.objective import outputs_of
from genesis_lab.errors import CampaignError, ParameterError


def test_space_from_dict_and_check():
    s = Space.from_dict(
        {"x": (-5.0, 10.0), "n": ("int", 1, 4), "m": ["a", "b"], "r": ("log", 1e-3, 1.0)}
    )
    assert s.names == ["x", "n", "m", "r"]
    assert s["r"].log
    assert s.check({"x": 1, "n": 2.0, "m": "a", "r": 0.1}) == {"x": 1.0, "n": 2, "m": "a", "r": 0.1}
    with pytest.raises(ParameterError, match=r"'x'.*out of bounds"):
        s.check({"x": 11, "n": 2, "m": "a", "r": 0.1})
    with pytest.raises(ParameterError, match="'m'"):
        s.check({"x": 1, "n": 2, "m": "c", "r": 0.1})


def test_space_bad_declarations_name_the_field():
    with pytest.raises(CampaignError, match=r"'x'.*low < high"):
        Space.from_dict({"x": (1.0, 0.0)})
    with pytest.raises(CampaignError, match="'y'"):
        Space.from_dict({"y": "nope"})


def test_grid_covers_budget_and_round_trips():
    s = Space.from_dict({"a": (0.0, 1.0), "b": (0.0, 2.0), "c": ["u", "v"]})
    grid = s.grid(18)
    assert len(grid) >= 18
    assert {g["c"] for g in grid} == {"u", "v"}
    assert min(g["a"] for g in grid) == 0.0 and max(g["b"] for g in grid) == 2.0
    assert Space.from_spec(s.to_dict()) == s


def test_space_from_simulator_schema():
    from genesis_lab.simulators.base import Parameter

    class Sim:
        id = "demo/sim"
        parameters = (
            Parameter("power", "W", (50.0, 1000.0), 200.0, "Laser power."),
            Parameter("passes", "1", (1, 5), 1, "Passes.", type="int"),
            Parameter("gas", "", None, "argon", "Gas.", type="choice", choices=("argon", "n2")),
            Parameter("on", "", None, True, "Switch.", type="bool"),
        )

    s = Space.from_simulator(Sim(), fixed={"on": True})
    assert s.names == ["power", "passes", "gas"]
    assert s["power"].unit == "W" and s["power"].bounds == (50.0, 1000.0)
    assert s["passes"].type == "int" and s["gas"].choices == ("argon", "n2")
    assert s.fixed == {"on": True}
    with pytest.raises(CampaignError, match="not parameters"):
        Space.from_simulator(Sim(), include=["speed"])


def test_objective_parse_and_constraints():
    o = Objective.parse({"yield": "max", "cost": "min"}, constraints={"temp": ("<=", 400)})
    assert o.directions == ["maximize", "minimize"]
    assert o.values({"yield": 2, "cost": 3, "temp": 500}) == [2.0, 3.0]
    assert o.violations({"yield": 2, "cost": 3, "temp": 500}) == [100.0]
    assert Constraint("t", ">=", 1.0).violation(3.0) == -2.0
    assert Objective.from_spec(o.to_dict()) == o
    with pytest.raises(CampaignError, match=r"direction='up'.*minimize, maximize"):
        Objective.parse({"y": "up"})
    with pytest.raises(CampaignError, match="no output 'yield'"):
        o.values({"cost": 1})


def test_outputs_of_dataset_takes_scalar_variables():
    import numpy as np
    import xarray as xr

    ds = xr.Dataset({"y": ((), 2.5), "curve": ("t", np.arange(3.0))})
    assert outputs_of(ds) == {"y": 2.5}


def test_space_from_simulator_narrows_a_one_parameter_relation_to_the_valid_range():
    from genesis_lab.simulators import get_simulator

    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    s = Space.from_simulator(sim, include=["power", "preheat_temperature"])
    lo, hi = s["preheat_temperature"].bounds
    assert lo == 1.0 and 1699.99 < hi < 1700.0  # the melting point stays at its default 1700 K
    s = Space.from_simulator(sim, include=["preheat_temperature"],
                             fixed={"melting_temperature": 933.0})  # fmt: skip
    assert 932.99 < s["preheat_temperature"].bounds[1] < 933.0
    wide = Space((Dimension("preheat_temperature", "float", (1.0, 3000.0)),), {}, s.relations)
    assert wide.check({"preheat_temperature": 900.0}) == {"preheat_temperature": 900.0}
    with pytest.raises(ParameterError, match="preheat_temperature < melting_temperature"):
        wide.check({"preheat_temperature": 940.0})
    # a choice dimension keeps only the choices where the model holds
    pk = get_simulator("nuclear-energy/point-kinetics")
    s = Space.from_simulator(pk, include=["reactivity_unit"], fixed={"reactivity": 100.0})
    assert s["reactivity_unit"].choices == ("pcm",)


def test_space_from_simulator_refuses_a_relation_across_searched_parameters():
    from genesis_lab.simulators import get_simulator

    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    with pytest.raises(CampaignError, match=r"'preheat_temperature < melting_temperature'.*fixed="):
        Space.from_simulator(sim)
    with pytest.raises(CampaignError, match="fixed and default values"):
        Space.from_simulator(sim, include=["power"], fixed={"preheat_temperature": 2000.0})
    # narrow enough by hand and the whole box holds: accepted
    ok = Space.from_simulator(sim, include=["power"], fixed={"preheat_temperature": 500.0})
    assert ok.names == ["power"]


@pytest.mark.parametrize("policy", ["random", "grid"])
def test_a_campaign_over_a_narrowed_space_never_proposes_an_invalid_point(policy):
    from genesis_lab.agents import Campaign
    from genesis_lab.simulators import get_simulator

    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    space = Space.from_simulator(sim, include=["preheat_temperature", "melting_temperature"],
                                 fixed={"melting_temperature": 1000.0})  # fmt: skip
    c = Campaign(space, {"melt_pool_length": "max"}, policy, experiment=sim, budget=12, seed=3)
    c.run()
    assert len(c.trials) == 12
    assert all(t["status"] == "complete" for t in c.trials), [t["error"] for t in c.trials]
    assert all(t["params"]["preheat_temperature"] < 1000.0 for t in c.trials)
    assert all(t["outputs"]["melt_pool_length"] > 0 for t in c.trials)
