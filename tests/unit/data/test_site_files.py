"""Site data: netCDF, zarr, CSV and parquet files listed in a catalog YAML open through open_dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

import genesis_lab as gl
from genesis_lab.data.checksum import sha256_file, sha256_tree, sha256_zarr
from genesis_lab.errors import (
    ChecksumMismatchError,
    DataError,
    ParameterError,
    UnsupportedFormatError,
)
from genesis_lab.settings import reset_settings


def _entry(name: str, url: str, *, fmt: str | None = None, sha256: str | None = None, **extra):
    dist = {"downloadURL": url} | ({"format": fmt} if fmt else {})
    prov = {"source": url, "agency": "NIST", "citation": "test site data", "version": "1"}
    if sha256:
        prov["sha256"] = sha256
    return {
        "id": f"semiconductors/{name}",
        "kind": "dataset",
        "domain": "semiconductors",
        "title": name,
        "description": f"site file {name}",
        "keyword": ["site"],
        "modified": "2026-01-01",
        "publisher": {"name": "Site"},
        "contactPoint": {"fn": "Site desk", "hasEmail": "desk@site.example"},
        "license": "CC0-1.0",
        "distribution": [dist],
        "provenance": prov,
        **extra,
    }


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A data root and a catalog folder; ``write(entries)`` publishes a site catalog YAML."""
    data_root = tmp_path / "data"
    catalog = tmp_path / "catalog"
    data_root.mkdir()
    catalog.mkdir()
    monkeypatch.setenv("GENESIS_DATA_ROOT", str(data_root))
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(catalog))
    reset_settings()

    def write(entries):
        (catalog / "site.yaml").write_text(yaml.safe_dump({"entries": entries}))
        reset_settings()

    return data_root, write


def _sample() -> xr.Dataset:
    t = np.arange(40.0)
    return xr.Dataset(
        {"thickness": (("wafer", "site"), np.arange(160.0).reshape(40, 4), {"units": "nm"})},
        coords={"wafer": t, "site": list("abcd")},
    )


def test_netcdf_zarr_csv_and_parquet_open_with_units_and_checksum(site):
    data_root, write = site
    ds = _sample()
    ds.to_netcdf(data_root / "films.nc", engine="h5netcdf")
    ds.chunk({"wafer": 10}).to_zarr(data_root / "films.zarr", consolidated=True, zarr_format=2)
    df = pd.DataFrame({"wafer": np.arange(5), "resistivity": np.linspace(1, 2, 5)})
    df.to_csv(data_root / "sheet.csv", index=False)
    df.to_parquet(data_root / "sheet.parquet")
    units = {"resistivity": "ohm*cm"}
    write(
        [
            _entry("films-nc", "films.nc", sha256=sha256_file(data_root / "films.nc")),
            _entry("films-zarr", "films.zarr", sha256=sha256_zarr(data_root / "films.zarr")),
            _entry(
                "sheet-csv",
                "sheet.csv",
                sha256=sha256_file(data_root / "sheet.csv"),
                units=units,
                options={"index": "wafer"},
            ),
            _entry("sheet-pq", str(data_root / "sheet.parquet"), fmt="parquet", units=units),
        ]
    )
    nc = gl.open_dataset("semiconductors/films-nc")
    zr = gl.open_dataset("semiconductors/films-zarr")
    xr.testing.assert_identical(nc.thickness.load(), ds.thickness)
    assert zr.thickness.chunks == ((10, 10, 10, 10), (4,))  # lazy, dask-backed
    np.testing.assert_array_equal(zr.thickness.values, ds.thickness.values)
    assert zr.thickness.attrs["units"] == "nm"
    assert zr.attrs["provenance_sha256"] == sha256_zarr(data_root / "films.zarr")
    csv = gl.open_dataset("semiconductors/sheet-csv")
    pq = gl.open_dataset("semiconductors/sheet-pq", index="wafer")
    for table in (csv, pq):
        assert list(table.sizes) == ["wafer"]
        np.testing.assert_allclose(table.resistivity.values, df.resistivity.values)
        assert table.resistivity.attrs["units"] == "ohm*cm"
        assert table.attrs["genesis_id"].startswith("semiconductors/sheet")
    assert gl.open_dataset("semiconductors/sheet-pq").sizes["row"] == 5


def test_checksum_mismatch_is_an_error_naming_both_digests(site):
    data_root, write = site
    path = data_root / "sheet.csv"
    path.write_text("a,b\n1,2\n")
    recorded = sha256_file(path)
    write([_entry("sheet", "sheet.csv", sha256=recorded)])
    assert gl.open_dataset("semiconductors/sheet").a.values.tolist() == [1]
    path.write_text("a,b\n1,3\n")
    with pytest.raises(ChecksumMismatchError) as err:
        gl.open_dataset("semiconductors/sheet")
    message = str(err.value)
    assert recorded in message and sha256_file(path) in message and "provenance.sha256" in message


def test_zarr_metadata_change_is_a_checksum_mismatch(site):
    data_root, write = site
    store = data_root / "films.zarr"
    _sample().to_zarr(store, consolidated=True, zarr_format=2)
    write([_entry("films", "films.zarr", sha256=sha256_zarr(store))])
    gl.open_dataset("semiconductors/films")
    _sample().assign_attrs(note="edited").to_zarr(store, mode="w", consolidated=True, zarr_format=2)
    with pytest.raises(ChecksumMismatchError, match="consolidated metadata"):
        gl.open_dataset("semiconductors/films")


def test_zarr_without_consolidated_metadata_cannot_be_checksummed(site):
    data_root, write = site
    _sample().to_zarr(data_root / "raw.zarr", consolidated=False, zarr_format=2)
    write([_entry("raw", "raw.zarr", sha256="0" * 64)])
    with pytest.raises(DataError, match="consolidated"):
        gl.open_dataset("semiconductors/raw")


def test_unknown_format_lists_supported_ones(site):
    data_root, write = site
    (data_root / "x.xlsx").write_bytes(b"")
    (data_root / "y.dat").write_bytes(b"")
    write([_entry("xlsx", "x.xlsx", fmt="excel"), _entry("dat", "y.dat")])
    with pytest.raises(UnsupportedFormatError, match="netcdf, zarr, csv, parquet"):
        gl.open_dataset("semiconductors/xlsx")
    with pytest.raises(UnsupportedFormatError, match=r"'\.dat'"):
        gl.open_dataset("semiconductors/dat")


def test_missing_file_and_bad_option_are_clear_errors(site):
    data_root, write = site
    (data_root / "a.csv").write_text("x\n1\n")
    write([_entry("gone", "missing/gone.nc"), _entry("a", "a.csv")])
    with pytest.raises(DataError, match=r"does not exist.*data root"):
        gl.open_dataset("semiconductors/gone")
    with pytest.raises(ParameterError, match="Allowed options: index, storage_options"):
        gl.open_dataset("semiconductors/a", chunks={"x": 1})
    with pytest.raises(ParameterError, match="nope"):
        gl.open_dataset("semiconductors/a", index="nope")


def test_unknown_id_lists_the_closest_ids():
    with pytest.raises(gl.errors.UnknownAssetError) as err:
        gl.open_dataset("nuclear-energy/neutron-scatering-length")
    assert "nuclear-energy/neutron-scattering-lengths" in err.value.suggestions
    assert "Closest ids" in str(err.value)


def test_tree_digest_covers_every_byte(tmp_path):
    store = tmp_path / "s.zarr"
    _sample().to_zarr(store, consolidated=True, zarr_format=2)
    before, meta = sha256_tree(store), sha256_zarr(store)
    chunk = next(p for p in (store / "thickness").iterdir() if not p.name.startswith("."))
    chunk.write_bytes(chunk.read_bytes() + b"\0")
    assert sha256_tree(store) != before
    assert sha256_zarr(store) == meta  # the documented policy: metadata only, so reads stay lazy
