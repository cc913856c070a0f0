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
