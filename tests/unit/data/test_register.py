"""save_dataset writes a zarr store and a catalog YAML atomically; the catalog then serves it."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml

import genesis_lab as gl
from genesis_lab.catalog import get_catalog
from genesis_lab.data import save_dataset
from genesis_lab.data.checksum import sha256_zarr
from genesis_lab.errors import DataError, ParameterError
from genesis_lab.settings import get_settings


def _run(scale: float = 1.0) -> xr.Dataset:
    t = np.linspace(0, 1, 50)
    return xr.Dataset(
        {"power": (("time",), scale * np.exp(-t), {"units": "W"})},
        coords={"time": ("time", t, {"units": "s"})},
    )


def test_saved_dataset_is_in_the_catalog_with_provenance():
    get_catalog()  # cached before the save: save_dataset must make the next lookup see it
    entry = save_dataset(
        _run(),
        "kinetics-demo",
        domain="nuclear-energy",
        title="Point-kinetics demo run",
        description="Power after a reactivity step.",
        source="genesis_lab.simulators.nuclear:PointKinetics",
        parameters={"rho": np.float64(0.001), "groups": 6},
        derived_from=["nuclear-energy/icrp107-decay-data"],
    )
    s = get_settings()
    store = s.data_root / "nuclear-energy" / "kinetics-demo.zarr"
    assert entry.id == "nuclear-energy/kinetics-demo"
    assert store.is_dir() and entry.provenance.sha256 == sha256_zarr(store)
    assert entry.units == {"power": "W", "time": "s"}
    doc = yaml.safe_load((s.user_catalog_dir / "nuclear-energy" / "kinetics-demo.yaml").read_text())
    assert doc["provenance"]["parameters"] == {"rho": 0.001, "groups": 6}
    assert not [p.name for p in store.parent.iterdir() if p.name.startswith(".")]  # no temp left

    ds = gl.open_dataset("nuclear-energy/kinetics-demo")
    np.testing.assert_allclose(ds.power.values, _run().power.values)
    assert ds.power.attrs["units"] == "W"
    assert ds.attrs["provenance_source"] == "genesis_lab.simulators.nuclear:PointKinetics"
    assert ds.attrs["provenance_derived_from"] == "nuclear-energy/icrp107-decay-data"


def test_existing_id_needs_overwrite():
    kw = {"title": "t", "description": "d", "source": "test"}
    save_dataset(_run(), "semiconductors/run", **kw)
    with pytest.raises(DataError, match="overwrite=True"):
        save_dataset(_run(2.0), "semiconductors/run", **kw)
    save_dataset(_run(2.0), "semiconductors/run", overwrite=True, **kw)
    ds = gl.open_dataset("semiconductors/run")
    assert float(ds.power[0]) == pytest.approx(2.0)


def test_bad_domain_and_marking_are_rejected_before_writing():
    kw = {"title": "t", "description": "d", "source": "test"}
    with pytest.raises(ParameterError, match="Allowed values"):
        save_dataset(_run(), "astrology/run", **kw)
    with pytest.raises(ParameterError, match="disagrees"):
        save_dataset(_run(), "semiconductors/run", domain="biotechnology", **kw)
    with pytest.raises(gl.errors.EntryValidationError, match="marking"):
        save_dataset(_run(), "semiconductors/run", marking="secret", **kw)
    assert not (get_settings().data_root / "semiconductors").exists()
