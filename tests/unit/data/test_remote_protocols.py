"""Any fsspec protocol works as a downloadURL (``memory://`` stands in for ``s3://`` here)."""

from __future__ import annotations

import io

import fsspec
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

import genesis_lab as gl
from genesis_lab.data.checksum import sha256_bytes, sha256_zarr
from genesis_lab.errors import ChecksumMismatchError
from genesis_lab.settings import reset_settings


@pytest.fixture
def memory_site(tmp_path, monkeypatch):
    fs = fsspec.filesystem("memory")
    root = f"/genesis-test-{tmp_path.name}"
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(catalog))

    def publish(name: str, url: str, sha256: str) -> None:
        entry = {
            "id": f"critical-materials/{name}",
            "kind": "dataset",
            "domain": "critical-materials",
            "title": name,
            "description": "remote test data",
            "keyword": ["remote"],
            "modified": "2026-01-01",
            "publisher": {"name": "USGS"},
            "contactPoint": {"fn": "Desk", "hasEmail": "desk@usgs.example"},
            "license": "CC0-1.0",
            "distribution": [{"downloadURL": url}],
            "provenance": {
                "source": url,
                "agency": "USGS",
                "citation": "t",
                "version": "1",
                "sha256": sha256,
            },
            "units": {"output": "t"},
        }
        (catalog / f"{name}.yaml").write_text(yaml.safe_dump(entry))
        reset_settings()

    yield fs, root, publish
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_parquet_over_an_fsspec_protocol_is_checked_and_opened(memory_site):
    fs, root, publish = memory_site
    buf = io.BytesIO()
    pd.DataFrame({"year": [2021, 2022], "output": [280.0, 300.0]}).to_parquet(buf)
    fs.pipe(f"{root}/ree.parquet", buf.getvalue())
    publish("ree", f"memory://{root}/ree.parquet", sha256_bytes(buf.getvalue()))
    ds = gl.open_dataset("critical-materials/ree", index="year")
    assert ds.output.sel(year=2022).item() == 300.0 and ds.output.attrs["units"] == "t"

    fs.pipe(f"{root}/ree.parquet", buf.getvalue() + b"\0")
    with pytest.raises(ChecksumMismatchError):
        gl.open_dataset("critical-materials/ree")


def test_zarr_over_an_fsspec_protocol_opens_dask_backed(memory_site):
    _, root, publish = memory_site
    url = f"memory://{root}/stocks.zarr"
    xr.Dataset({"output": ("year", np.arange(100.0))}).chunk({"year": 10}).to_zarr(
        url, consolidated=True, zarr_format=2
    )
    publish("stocks", url, sha256_zarr(url))
    ds = gl.open_dataset("critical-materials/stocks")
    assert ds.output.chunks == ((10,) * 10,)
    assert float(ds.output[42]) == 42.0


def test_protocol_without_a_backend_says_what_to_install(memory_site):
    _, _, publish = memory_site
    publish("nowhere", "nosuchprotocol://bucket/ree.parquet", "0" * 64)
    with pytest.raises(
        gl.errors.DataError, match="fsspec has no usable backend for nosuchprotocol"
    ):
        gl.open_dataset("critical-materials/nowhere")
