"""The SDK inside a hub session goes through the service with the session's token, lazily."""

from __future__ import annotations

import time

import pytest
from svc_hub import DATASETS

from genesis_lab.access.audit import query

pytestmark = pytest.mark.hub


@pytest.fixture
def as_session(service_hub, monkeypatch):
    from genesis_lab.settings import reset_settings

    def login(user: str) -> None:
        monkeypatch.setenv("GENESIS_SERVICE_URL", service_hub.service_url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", service_hub.token(user))
        reset_settings()

    yield login
    reset_settings()


def test_open_dataset_is_lazy_and_only_read_chunks_cross_the_wire(service_hub, as_session):
    import genesis_lab as gl
    from genesis_lab.catalog import get_catalog
    from genesis_lab.catalog.remote import RemoteCatalog

    as_session("c-controlled")
    assert isinstance(get_catalog(), RemoteCatalog)
    entry_id = DATASETS["controlled"]
    marker = time.time()
    ds = gl.open_dataset(entry_id)
    assert ds.attrs["access_marking"] == "controlled" and ds["thickness"].attrs["units"] == "nm"
    opened = [r for r in query(service_hub.audit_path, user="c-controlled", dataset=entry_id)
              if r["time"] >= _iso(marker)]  # fmt: skip
    assert not [r for r in opened if r.get("file", "").startswith("thickness/")]  # nothing read
    value = ds["thickness"][12, 23].values  # one chunk: (1, 2)
    after = [r for r in query(service_hub.audit_path, user="c-controlled", dataset=entry_id)
             if r["time"] >= _iso(marker) and r.get("file", "").startswith("thickness/")]  # fmt: skip
    files = {r["file"] for r in after} - {"thickness/.zarray", "thickness/.zattrs"}
    assert files == {"thickness/1.2"}
    import xarray as xr

    store = service_hub.data_root / "site" / "wafer-controlled.zarr"
    assert value == xr.open_zarr(store)["thickness"][12, 23].values


def test_denied_and_hidden_datasets_through_the_sdk(service_hub, as_session):
    import genesis_lab as gl
    from genesis_lab.errors import AccessDeniedError, UnknownAssetError

    as_session("vetted")
    with pytest.raises(AccessDeniedError, match="clearance"):
        gl.open_dataset(DATASETS["controlled"])
    with pytest.raises(UnknownAssetError) as err:
        gl.open_dataset(DATASETS["export-controlled"])
    assert "export-controlled" not in " ".join(err.value.suggestions)
    hits = [e.id for e in gl.search("wafer")]
    assert DATASETS["public"] in hits and DATASETS["proprietary"] not in hits


def test_outside_a_hub_the_local_catalog_is_used(service_hub):
    from genesis_lab.catalog import get_catalog
    from genesis_lab.catalog.remote import RemoteCatalog

    assert not isinstance(get_catalog(), RemoteCatalog)


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="microseconds")


LARGE_ID = "semiconductors/wafer-large"


@pytest.fixture(scope="module")
def large_dataset(service_hub):
    """A controlled zarr store with 2 MB chunks (sent by sendfile) and one chunk left out."""
    import numpy as np
    import xarray as xr
    import yaml

    store = service_hub.data_root / "site" / "wafer-large.zarr"
    data = np.random.default_rng(7).normal(100, 1, (1024, 768))
    xr.Dataset({"thickness": (("x", "y"), data)}).to_zarr(
        store, mode="w", consolidated=True, zarr_format=2,
        encoding={"thickness": {"chunks": (512, 512), "compressors": None}},
    )  # fmt: skip
    (store / "thickness" / "1.1").unlink()  # never written: zarr's fill value
    entry = {
        "id": LARGE_ID, "kind": "dataset", "domain": "semiconductors",
        "title": "Wafer thickness map, large chunks", "description": "Synthetic.",
        "keyword": ["wafer"], "modified": "2026-01-01", "publisher": {"name": "fab"},
        "contactPoint": {"fn": "fab", "hasEmail": "fab@example.org"}, "license": "CC0-1.0",
        "distribution": [{"downloadURL": "site/wafer-large.zarr", "format": "zarr"}],
        "provenance": {"source": "synthetic", "agency": "fab", "citation": "t", "version": "1"},
        "marking": "controlled",
    }  # fmt: skip
    catalog_file = service_hub.catalog_dir / "large.yaml"
    catalog_file.write_text(yaml.safe_dump({"entries": [entry]}))
    deadline = time.monotonic() + 30
    while service_hub.get(f"api/catalog/{LARGE_ID}", "c-controlled").status_code != 200:
        assert time.monotonic() < deadline, "the service never listed the new entry"
        time.sleep(0.5)
    yield store, data
    catalog_file.unlink()


def test_large_chunks_arrive_byte_exact_and_ranges_still_work(service_hub, large_dataset):
    store, _ = large_dataset
    on_disk = (store / "thickness" / "0.1").read_bytes()
    assert len(on_disk) == 512 * 512 * 8
    path = f"api/data/{LARGE_ID}/thickness/0.1"
    whole = service_hub.get(path, "c-controlled", direct=True)
    assert whole.status_code == 200 and whole.content == on_disk
    assert whole.headers["Content-Length"] == str(len(on_disk))
    assert whole.headers["Cache-Control"] == "no-store"
    assert whole.headers["Connection"] == "close"  # the sendfile answer
    part = service_hub.get(path, "c-controlled", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == on_disk[1000:2000]
    denied = service_hub.get(path, "vetted", direct=True)
    assert denied.status_code == 403 and on_disk[:4096] not in denied.content


def test_sdk_reads_large_chunks_and_fill_values(service_hub, large_dataset, as_session):
    import numpy as np

    import genesis_lab as gl

    _, data = large_dataset
    as_session("c-controlled")
    ds = gl.open_dataset(LARGE_ID)
    values = ds["thickness"].values
    np.testing.assert_array_equal(values[:512], data[:512])
    np.testing.assert_array_equal(values[512:, :512], data[512:, :512])
    assert np.isnan(values[512:, 512:]).all()  # the missing chunk reads as the fill value


def test_a_revocation_mid_read_stops_the_next_chunk(service_hub, large_dataset, as_session):
    """Chunks read after the clearance is withdrawn are refused with the service's reason,
    never turned into fill values."""
    import genesis_lab as gl
    from genesis_lab.errors import AccessDeniedError

    user = "sdk-revokee"
    service_hub.hub_api("POST", f"/users/{user}")
    service_hub.set_groups(user, ["vetted", "clearance-controlled"])
    as_session(user)
    ds = gl.open_dataset(LARGE_ID)
    assert float(ds["thickness"][0, 0]) > 0
    service_hub.set_groups(user, ["vetted"])
    with pytest.raises(AccessDeniedError, match="clearance"):
        ds["thickness"][600, 10].values  # noqa: B018


@pytest.fixture(scope="module")
def site_models(service_hub):
    """Two models registered on the hub's site, marked controlled and proprietary."""
    import numpy as np
    import pandas as pd
    import yaml

    from genesis_lab.models import train
    from genesis_lab.models.registry import entry_for_card

    df = pd.DataFrame({"x": np.linspace(0, 1, 40)})
    df["y"] = 3 * df.x + 1
    ids, files = {}, []
    for marking in ("controlled", "proprietary"):
        model = train(df, "y", ["x"], kind="linear", model_id=f"semiconductors/line-{marking}")
        folder = service_hub.data_root / "models" / "semiconductors" / f"line-{marking}"
        model.save(folder)
        entry = entry_for_card(model.card, source=str(folder), options={"path": str(folder)},
                               marking=marking)  # fmt: skip
        path = service_hub.catalog_dir / f"model-{marking}.yaml"
        data = entry.model_dump(mode="json", by_alias=True, exclude_none=True,
                                exclude={"source_file"})  # fmt: skip
        path.write_text(yaml.safe_dump({"entries": [data]}))
        ids[marking] = model.id
        files.append(path)
    deadline = time.monotonic() + 30
    while service_hub.get(f"api/catalog/{ids['controlled']}", "c-controlled").status_code != 200:
        assert time.monotonic() < deadline, "the service never listed the models"
        time.sleep(0.5)
    yield ids
    for path in files:
        path.unlink()


def test_load_model_goes_through_the_service(service_hub, site_models, as_session):
    import genesis_lab as gl
    from genesis_lab.errors import AccessDeniedError, UnknownAssetError

    as_session("c-controlled")
    model = gl.load_model(site_models["controlled"])
    assert round(float(model.predict({"x": [0.5]})[0]), 6) == 2.5
    listing = service_hub.get(f"api/data/{site_models['controlled']}", "c-controlled").json()
    assert sorted(listing["files"]) == ["card.json", "model.skops"]
    shipped = gl.load_model("advanced-manufacturing/melt-pool-width-gp")  # public, from the package
    assert shipped.card.target == "melt_pool_width"

    as_session("vetted")  # vetted, no clearance: listed, refused with the reason
    with pytest.raises(AccessDeniedError, match="clearance"):
        gl.load_model(site_models["controlled"])
    with pytest.raises(UnknownAssetError):  # proprietary: as if it did not exist
        gl.load_model(site_models["proprietary"])
    r = service_hub.get(f"api/data/{site_models['controlled']}/model.skops", "vetted")
    assert r.status_code == 403
