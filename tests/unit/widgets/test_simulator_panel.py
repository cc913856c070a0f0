"""SimulatorPanel: controls come from the parameter schema; bad input shows on the control."""

import ipywidgets as w
import pytest

from genesis_lab.simulators import get_simulator
from genesis_lab.widgets import SimulatorPanel
from genesis_lab.widgets.simulator_panel import control_for

SIM = "biotechnology/michaelis-menten"


@pytest.fixture
def panel():
    return SimulatorPanel(get_simulator(SIM), seed=0)


def test_controls_follow_the_schema(panel):
    sim = panel.simulator
    assert list(panel.controls) == [p.name for p in sim.parameters]
    for p in sim.parameters:
        c = panel.controls[p.name]
        assert isinstance(c, w.FloatSlider)
        assert (c.min, c.max) == p.bounds
        assert c.value == p.default
        assert p.unit in c.description


def test_moving_a_control_reruns_and_matches_the_sdk(panel):
    assert panel.runs == 1
    panel.controls["s0"].value = 4.0
    assert panel.runs == 2
    direct = panel.simulator.run({"s0": 4.0}, seed=0)
    assert float(panel.result["half_conversion_time"]) == float(direct["half_conversion_time"])
    assert f"{float(direct['half_conversion_time']):.6g}" in panel.summary.value


def test_invalid_value_is_shown_on_the_control_not_raised():
    from genesis_lab.simulators import Parameter

    box = control_for(Parameter("n", "1", None, 1.0, "unbounded", type="float"))
    assert isinstance(box, w.FloatText)

    panel = SimulatorPanel(get_simulator(SIM), seed=0)
    slider = panel.controls["km"]
    slider.max = slider.max * 10  # the widget now allows a value the schema refuses
    slider.value = slider.max
    assert "out of bounds" in panel.messages["km"].value
    assert "genesis-invalid" in slider._dom_classes
    assert panel.runs == 1
    assert "Fix the highlighted parameter" in panel.status.value
