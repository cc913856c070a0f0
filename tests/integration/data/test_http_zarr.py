"""A zarr store served over HTTP on 127.0.0.1 opens lazily through the catalog: only the chunks a
selection needs are requested, and a changed store is a checksum error."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import genesis_lab as gl
from genesis_lab.data.checksum import sha256_file, sha256_zarr
from genesis_lab.errors import ChecksumMismatchError
from genesis_lab.settings import reset_settings

N_CHUNKS = 20


class _CountingHandler(SimpleHTTPRequestHandler):
    """Serves a folder and records every request line (method, path)."""

    requests: list[tuple[str, str]]

    def _record(self) -> None:
        self.server.requests.append((self.command, self.path))  # type: ignore[attr-defined]

    def do_GET(self):
        self._record()
        super().do_GET()

    def do_HEAD(self):
        self._record()
        super().do_HEAD()

    def log_message(self, format, *args):  # keep test output clean
        pass


@pytest.fixture
def http_store(tmp_path, monkeypatch):
    """A 20-chunk zarr store under a served folder and a catalog entry pointing at its URL."""
    served = tmp_path / "served"
    served.mkdir()
    store = served / "temperature.zarr"
    time = np.arange(N_CHUNKS * 50, dtype=float)
    values = np.random.default_rng(0).random((time.size, 8))
    ds = xr.Dataset(
        {"temperature": (("time", "sensor"), values, {"units": "K"})}, coords={"time": time}
    )
    ds.chunk({"time": 50}).to_zarr(store, consolidated=True, zarr_format=2)

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_CountingHandler, directory=str(served))
    )
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    catalog = tmp_path / "catalog"
    catalog.mkdir()

    def publish(sha256: str, path: str = "temperature.zarr", name: str = "temperatures") -> None:
        url = f"{base}/{path}"
        entry = {
            "id": f"nuclear-energy/remote-{name}",
            "kind": "dataset",
            "domain": "nuclear-energy",
            "title": "Remote loop temperatures",
            "description": "Thermocouple readings served over HTTP.",
            "keyword": ["remote"],
            "modified": "2026-01-01",
            "publisher": {"name": "Test facility"},
            "contactPoint": {"fn": "Desk", "hasEmail": "desk@facility.example"},
            "license": "CC0-1.0",
            "distribution": [{"downloadURL": url}],
            "provenance": {
                "source": url,
                "agency": "DOE",
                "citation": "test",
                "version": "1",
                "sha256": sha256,
            },
        }
        (catalog / f"{name}.yaml").write_text(yaml.safe_dump(entry))
        reset_settings()

    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(catalog))
    publish(sha256_zarr(store))
    yield server, store, ds, publish
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _chunk_requests(server) -> list[str]:
    return [
        p for m, p in server.requests if "/temperature/" in p and not Path(p).name.startswith(".")
    ]


def test_remote_zarr_opens_lazily_and_fetches_only_needed_chunks(http_store):
    server, store, expected, _ = http_store
    assert (
        len([p for p in (store / "temperature").iterdir() if not p.name.startswith(".")])
        == N_CHUNKS
    )

    ds = gl.open_dataset("nuclear-energy/remote-temperatures")
    assert ds.temperature.chunks[0] == (50,) * N_CHUNKS  # dask-backed, stored chunking
    assert _chunk_requests(server) == []  # opening reads metadata (and the index coordinate) only
    assert ds.temperature.attrs["units"] == "K"
    assert ds.attrs["provenance_sha256"] == sha256_zarr(store)

    one = ds.temperature.isel(time=slice(120, 130)).values  # inside chunk 2 only
    np.testing.assert_array_equal(one, expected.temperature.values[120:130])
    assert _chunk_requests(server) == ["/temperature.zarr/temperature/2.0"]

    two = ds.temperature.isel(time=[10, 990]).values  # chunks 0 and 19
    np.testing.assert_array_equal(two, expected.temperature.values[[10, 990]])
    assert sorted(_chunk_requests(server)[1:]) == [
        "/temperature.zarr/temperature/0.0",
        "/temperature.zarr/temperature/19.0",
    ]


def test_remote_zarr_with_changed_metadata_is_a_checksum_error(http_store):
    server, store, expected, publish = http_store
    recorded = sha256_zarr(store)
    expected.assign_attrs(calibration="v2").chunk({"time": 50}).to_zarr(
        store, mode="w", consolidated=True, zarr_format=2
    )
    publish(recorded)
    with pytest.raises(ChecksumMismatchError) as err:
        gl.open_dataset("nuclear-energy/remote-temperatures")
    assert recorded in str(err.value) and sha256_zarr(store) in str(err.value)
    assert _chunk_requests(server) == []


def test_remote_netcdf_is_fetched_once_checked_and_opened(http_store):
    server, store, expected, publish = http_store
    path = store.parent / "loop.nc"
    expected.to_netcdf(path, engine="h5netcdf")
    publish(sha256_file(path), path="loop.nc", name="loop")
    ds = gl.open_dataset("nuclear-energy/remote-loop")
    np.testing.assert_array_equal(ds.temperature.values, expected.temperature.values)
    assert [p for _, p in server.requests if p.endswith("loop.nc")] == ["/loop.nc"]

    publish("0" * 64, path="loop.nc", name="loop")
    with pytest.raises(ChecksumMismatchError, match=r"0{64}"):
        gl.open_dataset("nuclear-energy/remote-loop")
