"""Validity domains: every simulator declares where it holds, refuses the rest, says so.

Each relation is tested by a point just inside it (runs, finite outputs) and one just
outside (ParameterError quoting the relation and the values); outputs are finite or a NaN
its notes document.
"""

import numpy as np
import pytest

from genesis_lab.errors import ParameterError
from genesis_lab.simulators import get_simulator, list_simulators

OUTSIDE = [  # (simulator, parameters outside the domain, relation text the error must quote)
    ("advanced-manufacturing/rosenthal-melt-pool", {"preheat_temperature": 1700.0},
     "preheat_temperature < melting_temperature"),
    ("advanced-manufacturing/rosenthal-melt-pool",
     {"preheat_temperature": 900.0, "melting_temperature": 800.0},
     "preheat_temperature < melting_temperature"),
    ("biotechnology/michaelis-menten", {"km": 0.01, "vmax": 10.0, "t_end": 10.0},
     "vmax * t_end / km <= 2000"),
    ("semiconductors/pn-junction", {"acceptor_density": 1e14, "intrinsic_density": 1e13},
     "acceptor_density >= 100 intrinsic_density"),
    ("quantum-information/transverse-field-ising", {"coupling": 0.0, "field": 0.0},
     "coupling + field > 0"),
    ("nuclear-energy/point-kinetics", {"reactivity": -11.0}, "reactivity >= -10 $"),
]  # fmt: skip

INSIDE = [
    ("advanced-manufacturing/rosenthal-melt-pool", {"preheat_temperature": 1690.0}),
    ("biotechnology/michaelis-menten", {"km": 0.01, "vmax": 10.0, "t_end": 2.0}),
    ("semiconductors/pn-junction", {"acceptor_density": 1e15, "intrinsic_density": 1e13}),
    ("quantum-information/transverse-field-ising", {"coupling": 0.0, "field": 0.5}),
    ("nuclear-energy/point-kinetics", {"reactivity": -10.0}),
]


@pytest.mark.parametrize(("sid", "params", "relation"), OUTSIDE)
def test_outside_the_domain_is_refused_naming_the_relation(sid, params, relation):
    sim = get_simulator(sid)
    with pytest.raises(ParameterError) as err:
        sim.run(params)
    msg = str(err.value)
    assert repr(relation) in msg
    for name, value in params.items():
        if name in next(r for r in sim.relations if r.text == relation).parameters:
            assert f"{name}={float(value)!r}" in msg
    with pytest.raises(ParameterError, match="does not hold"):  # the batch face too
        sim.run_batch({k: [v, v] for k, v in params.items()})


@pytest.mark.parametrize(("sid", "params"), INSIDE)
def test_just_inside_the_domain_runs(sid, params):
    sim = get_simulator(sid)
    ds = sim.run(params, seed=0)
    for name in sim.scalar_outputs():
        assert np.isfinite(float(ds[name])) or "NaN" in " ".join(sim.validity_notes), name


def test_rosenthal_field_is_finite_except_the_documented_source_node():
    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    field = sim.run({})["temperature"]
    assert not np.isinf(field.values).any()
    nan = np.argwhere(np.isnan(field.values))
    assert len(nan) == 1
    i, j = nan[0]
    assert field["x"].values[i] == 0.0 and field["y"].values[j] == 0.0
    assert any("NaN at the source" in n for n in sim.validity_notes)


def test_every_simulator_shows_its_validity_in_describe_and_the_catalog():
    entries = list_simulators()
    assert any(e.id == "nuclear-energy/fusion-power-balance" for e in entries)
    for entry in entries:
        sim = get_simulator(entry.id)
        text = sim.describe()
        assert "Valid where:" in text
        for r in sim.relations:
            assert r.text in text and r.why in text
        for note in sim.validity_notes:
            assert note in text
        validity = entry.options["validity"]
        assert [r["relation"] for r in validity["relations"]] == [r.text for r in sim.relations]
        assert validity["notes"] == list(sim.validity_notes)
        assert sim.relations or sim.validity_notes, f"{entry.id} declares no validity domain"


def test_default_outputs_are_finite_or_a_documented_nan():
    for entry in list_simulators():
        sim = get_simulator(entry.id)
        ds = sim.run(seed=0)
        notes = " ".join(sim.validity_notes) + " ".join(o.description for o in sim.outputs)
        for name in ds.data_vars:
            values = np.asarray(ds[name].values, dtype=float)
            assert not np.isinf(values).any(), (entry.id, name)
            if np.isnan(values).any():
                assert "NaN" in notes, (entry.id, name)
