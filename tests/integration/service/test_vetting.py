"""Vetting is approval, on the project's own hub (`genesis-lab hub`, nativeauthenticator): an
approved user joins the vetted group and the genesis service serves them restricted data they
are cleared for; withdrawing the approval stops tokens issued before it on the next request."""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests
import xarray as xr
import yaml

pytestmark = pytest.mark.hub

ENTRY = "critical-materials/assay-controlled"


def _controlled_dataset(home) -> bytes:
    store = home / "data" / "site" / "assay-controlled.zarr"
    xr.Dataset({"grade": (("x",), np.arange(64.0))}).to_zarr(
        store, mode="w", consolidated=True, zarr_format=2,
        encoding={"grade": {"chunks": (64,), "compressors": None}},
    )  # fmt: skip
    entry = {
        "id": ENTRY, "kind": "dataset", "domain": "critical-materials",
        "title": "Ore assay grades", "description": "Synthetic assay grades.",
        "keyword": ["assay"], "modified": "2026-01-01", "publisher": {"name": "Survey"},
        "contactPoint": {"fn": "Survey desk", "hasEmail": "survey@example.org"},
        "license": "CC0-1.0", "marking": "controlled",
        "distribution": [{"downloadURL": "site/assay-controlled.zarr", "format": "zarr"}],
        "provenance": {"source": "synthetic", "agency": "Survey", "citation": "t", "version": "1"},
    }  # fmt: skip
    catalog = home / "catalog"
    catalog.mkdir(parents=True, exist_ok=True)
    (catalog / "assay.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    return (store / "grade" / "0").read_bytes()


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"token {token}"}, timeout=30)


def test_withdrawn_approval_stops_old_tokens_at_the_service(hub):
    chunk = _controlled_dataset(hub.base / "home")
    name = hub.new_user()  # signs up; the admin approves
    token = hub.user_token(name)  # first login: the hub user now exists
    admin = hub.ensure_admin_token()

    def groups() -> list[str]:
        return hub.api("GET", f"/users/{name}", admin).json()["groups"]

    assert "vetted" in groups()
    hub.api("POST", "/groups/clearance-controlled/users", admin,
            json={"users": [name]}).raise_for_status()  # fmt: skip
    service = f"{hub.url}/services/genesis/"
    deadline = time.monotonic() + 30
    while (r := _get(f"{service}api/catalog/{ENTRY}", token)).status_code != 200:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.5)
    assert r.json()["access"]["may_read"] is True
    data_url = f"{service}api/data/{ENTRY}/grade/0"
    ok = _get(data_url, token)
    assert ok.status_code == 200 and ok.content == chunk

    hub.admin_browser().get(f"{hub.url}/hub/authorize/{name}", timeout=30)  # withdraw
    assert "vetted" not in groups()
    refused = _get(data_url, token)
    assert refused.status_code == 403 and "not vetted" in refused.json()["message"]
    assert chunk not in refused.content
    assert _get(f"{service}api/catalog/{ENTRY}", token).json()["access"]["may_read"] is False

    hub.approve(name)  # approved again
    assert "vetted" in groups()
    assert _get(data_url, token).content == chunk
