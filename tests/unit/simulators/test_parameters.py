"""Parameter validation: unknown names, wrong types and out-of-bounds values get clear errors."""

import numpy as np
import pytest

from genesis_lab.catalog import get_catalog
from genesis_lab.catalog.entry import DOMAINS
from genesis_lab.errors import ParameterError, UnknownAssetError
from genesis_lab.simulators import get_simulator, list_simulators


def test_out_of_bounds_names_parameter_value_bounds_and_unit():
    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    with pytest.raises(ParameterError) as err:
        sim.run({"power": 1e6})
    msg = str(err.value)
    assert "'power'" in msg and "1000000.0" in msg and "[1, 5000] W" in msg


def test_wrong_type_is_refused():
    sim = get_simulator("nuclear-energy/point-kinetics")
    with pytest.raises(ParameterError, match=r"'reactivity' = '0.1' has the wrong type"):
        sim.run({"reactivity": "0.1"})


def test_integer_parameter_refuses_fractions_but_takes_whole_floats():
    sim = get_simulator("critical-materials/solvent-extraction-cascade")
    with pytest.raises(ParameterError, match=r"'n_stages' = 2.5 is not an integer"):
        sim.run({"n_stages": 2.5})
    assert sim.validate({"n_stages": 4.0})["n_stages"] == 4


def test_unknown_name_lists_the_allowed_names():
    sim = get_simulator("biotechnology/michaelis-menten")
    with pytest.raises(ParameterError, match=r"no parameter 'k_m'; allowed names: s0, km, vmax"):
        sim.run(k_m=1.0)


def test_choice_parameter_lists_the_choices():
    sim = get_simulator("quantum-information/transverse-field-ising")
    with pytest.raises(ParameterError, match=r"allowed: one of 'periodic', 'open'"):
        sim.run({"boundary": "twisted"})


def test_nan_is_refused():
    sim = get_simulator("semiconductors/pn-junction")
    with pytest.raises(ParameterError, match="not finite"):
        sim.run({"reverse_bias": float("nan")})


def test_batch_checks_every_value_and_lengths():
    sim = get_simulator("biotechnology/michaelis-menten")
    with pytest.raises(ParameterError, match=r"'s0' = -1.0 is out of bounds"):
        sim.run_batch({"s0": np.array([1.0, -1.0])})
    with pytest.raises(ParameterError, match="different lengths"):
        sim.run_batch({"s0": [1.0, 2.0], "km": [1.0, 2.0, 3.0]})


def test_unknown_simulator_suggests_close_ids():
    with pytest.raises(UnknownAssetError, match="nuclear-energy/point-kinetics"):
        get_simulator("nuclear-energy/point-kinetic")


def test_every_domain_has_a_registered_simulator_with_dcat_fields():
    entries = list_simulators()
    assert {e.domain for e in entries} == set(DOMAINS)
    for entry in entries:
        assert entry.kind == "simulator"
        assert entry.loader == entry.id
        dcat = entry.to_dcat()
        assert dcat["accessLevel"] == "public" and dcat["keyword"] and dcat["publisher"]["name"]
        assert entry.provenance.version and entry.provenance.citation
        sim = get_simulator(entry.id)
        assert [p["name"] for p in entry.options["parameters"]] == [p.name for p in sim.parameters]
        assert set(sim.scalar_outputs()) <= set(entry.units)
    assert not get_catalog().errors


def test_scalar_outputs_are_zero_dimensional_with_units():
    for entry in list_simulators():
        sim = get_simulator(entry.id)
        ds = sim.run(seed=0)
        for name in sim.scalar_outputs():
            assert ds[name].ndim == 0, (entry.id, name)
            assert "units" in ds[name].attrs, (entry.id, name)
        for p in sim.parameters:
            assert ds[p.name].ndim == 0
        assert ds.attrs["simulator_id"] == entry.id
        assert ds.attrs["simulator_version"] == sim.version
