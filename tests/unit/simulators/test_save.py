"""Simulator output saved as a zarr dataset and registered in the catalog with provenance."""

import json

import numpy as np
import xarray as xr

import genesis_lab as gl
from genesis_lab.catalog import get_catalog
from genesis_lab.simulators import get_simulator, sweep
from genesis_lab.simulators.save import save_run


def test_run_is_registered_with_its_provenance_and_reopens():
    sim = get_simulator("nuclear-energy/point-kinetics")
    ds = sim.run({"reactivity": 0.25}, seed=5)
    entry = save_run(ds, sim, {"reactivity": 0.25}, 5, "nuclear-energy/pk-quarter-dollar")
    assert entry.id == "nuclear-energy/pk-quarter-dollar"
    assert entry.kind == "dataset"
    assert entry.provenance.derived_from == ("nuclear-energy/point-kinetics",)
    assert entry.provenance.version == sim.version
    assert entry.provenance.parameters == {"parameters": {"reactivity": 0.25}, "seed": 5}
    assert entry.units["reactor_period"] == "s"
    assert get_catalog().get(entry.id).provenance.sha256 == entry.provenance.sha256
    back = gl.open_dataset(entry.id).load()
    np.testing.assert_array_equal(back["power"].values, ds["power"].values)
    assert back.attrs["simulator_id"] == sim.id
    assert json.loads(back.attrs["parameters"])["reactivity"] == 0.25


def test_sweep_is_saved_with_recorded_space_and_default_id():
    sim = get_simulator("critical-materials/solvent-extraction-cascade")
    ds = sweep(sim, {"n_stages": [2, 4], "distribution_ratio": [1.0, 2.0]}, progress=False)
    entry = save_run(ds, sim)
    assert entry.id.startswith("critical-materials/solvent-extraction-cascade-run-")
    assert entry.provenance.parameters["parameters"]["n_stages"] == [2, 4]
    assert entry.provenance.parameters["seed"] == 0
    back = gl.open_dataset(entry.id)
    xr.testing.assert_allclose(back["recovery_a"].load(), ds["recovery_a"])
