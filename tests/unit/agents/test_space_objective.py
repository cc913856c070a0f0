"""Design spaces and objectives: parsing, checking, grids, and the errors for bad input."""

from __future__ import annotations

import pytest

from genesis_lab.agents import Constraint, Objective, Space
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
