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


def test_a_broken_relation_is_shown_on_its_controls_and_the_domain_is_listed():
    panel = SimulatorPanel(get_simulator("advanced-manufacturing/rosenthal-melt-pool"), seed=0)
    assert "preheat_temperature &lt; melting_temperature" in panel.validity.value
    assert "NaN at the source node" in panel.validity.value
    assert panel.runs == 1
    panel.controls["preheat_temperature"].value = 1800.0  # within its bounds, above Tm = 1700 K
    assert panel.runs == 1
    for name in ("preheat_temperature", "melting_temperature"):
        assert "breaks preheat_temperature &lt; melting_temperature" in panel.messages[name].value
        assert "genesis-invalid" in panel.controls[name]._dom_classes
    assert "does not hold" in panel.status.value and "1800.0" in panel.status.value
    panel.controls["melting_temperature"].value = 1900.0  # valid again: runs, marks cleared
    assert panel.runs == 2
    assert panel.messages["preheat_temperature"].value == ""
    assert "genesis-invalid" not in panel.controls["melting_temperature"]._dom_classes
