"""The policy matrix over real HTTP: 4 markings x 5 users x 5 request kinds, from the test process
(through the proxy) and from inside each approved user's kernel in a session the project hub
spawned (through the SDK, at the service URL sessions are given). The unvetted user, never
approved, gets no session at all.
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest
from svc_hub import CLEARED, DATASETS, MARKINGS, USERS

KERNEL_USERS = sorted(u for u, groups in USERS.items() if "vetted" in groups)

pytestmark = pytest.mark.hub

KINDS = ("list", "metadata", "data", "chunk", "search")


def expected(user: str, marking: str) -> tuple[bool, bool]:
    """(visible, may_read) per issue 8, item 2, written out independently of the policy code."""
    if marking == "public":
        return True, True
    if user in CLEARED and CLEARED[user] == marking:
        return True, True
    return marking == "controlled", False


def not_found_shape(body: dict, entry_id: str) -> dict:
    return {k: v.replace(entry_id, "<id>") for k, v in body.items()}


@pytest.fixture(scope="module")
def unknown_answer(service_hub):
    unknown = "semiconductors/wafer-never-existed"
    r = service_hub.get(f"api/catalog/{unknown}", "vetted")
    assert r.status_code == 404
    d = service_hub.get(f"api/data/{unknown}/thickness/0.0", "vetted")
    assert d.status_code == 404
    return unknown, r, d


@pytest.mark.parametrize("user", sorted(USERS))
def test_matrix_from_the_test_process(service_hub, unknown_answer, user):
    unknown, unknown_meta, unknown_data = unknown_answer
    listing = service_hub.get("api/catalog", user)
    assert listing.status_code == 200
    listed = {e["id"]: e for e in listing.json()["entries"]}
    cells = 0
    for i, marking in enumerate(MARKINGS):
        entry_id = DATASETS[marking]
        visible, may_read = expected(user, marking)
        chunk = service_hub.chunks[marking]
        title = f"Wafer thickness map ({marking})"
        answers = {}
        # list
        assert (entry_id in listed) == visible, (user, marking, "list")
        if visible:
            assert ("distribution" in listed[entry_id]) == may_read, (user, marking)
            assert listed[entry_id]["access"]["may_read"] == may_read
        # metadata
        meta = service_hub.get(f"api/catalog/{entry_id}", user)
        answers["metadata"] = meta
        if visible:
            assert meta.status_code == 200
            assert ("distribution" in meta.json()) == may_read
        else:
            assert meta.status_code == unknown_meta.status_code == 404
            assert not_found_shape(meta.json(), entry_id) == not_found_shape(
                unknown_meta.json(), unknown
            )
            assert meta.headers["Content-Type"] == unknown_meta.headers["Content-Type"]
        # data (the store's file list)
        data = service_hub.get(f"api/data/{entry_id}", user)
        answers["data"] = data
        if may_read:
            assert data.status_code == 200 and "thickness/0.0" in data.json()["files"]
        elif visible:
            assert data.status_code == 403
            assert "clearance" in data.json()["message"] or "vetted" in data.json()["message"]
        else:
            assert data.status_code == 404
            assert not_found_shape(data.json(), entry_id) == not_found_shape(
                unknown_data.json(), unknown
            )
        # a chunk
        got = service_hub.get(f"api/data/{entry_id}/thickness/0.0", user)
        answers["chunk"] = got
        if may_read:
            assert got.status_code == 200 and got.content == chunk
        else:
            assert got.status_code == (403 if visible else 404)
        # a search hit
        hits = service_hub.get("api/catalog", user, params={"q": f"zebraword{i}"})
        answers["search"] = hits
        assert hits.status_code == 200
        assert (entry_id in {e["id"] for e in hits.json()["entries"]}) == visible
        # no restricted byte: neither the chunk nor, for hidden entries, the metadata
        for kind, resp in [("list", listing), *answers.items()]:
            if not may_read:
                assert chunk not in resp.content, (user, marking, kind)
            if not visible:
                assert title.encode() not in resp.content, (user, marking, kind)
                assert entry_id.encode() not in resp.content or kind in (
                    "metadata",
                    "data",
                    "chunk",
                )
            cells += 1
    assert cells == len(MARKINGS) * len(KINDS)


KERNEL_CODE = textwrap.dedent(
    """
    import json, os, urllib.request, urllib.error
    import genesis_lab as gl
    from genesis_lab.catalog import get_catalog
    from genesis_lab.catalog.remote import RemoteCatalog
    from genesis_lab.errors import AccessDeniedError, UnknownAssetError
    ids = {ids!r}
    cat = get_catalog()
    out = {{"remote": isinstance(cat, RemoteCatalog), "cells": {{}}}}
    base = os.environ["GENESIS_SERVICE_URL"]
    tok = os.environ["JUPYTERHUB_API_TOKEN"]
    for i, (marking, eid) in enumerate(ids.items()):
        cell = {{}}
        cell["list"] = [eid in cat, bool(eid in cat and cat.entries[eid].distribution)]
        try:
            cell["metadata"] = ["ok", bool(cat.get(eid).distribution)]
        except UnknownAssetError:
            cell["metadata"] = ["unknown"]
        try:
            ds = gl.open_dataset(eid)
            cell["data"] = ["ok", float(ds["thickness"][0, 0].values), ds.attrs["access_marking"]]
        except AccessDeniedError as exc:
            cell["data"] = ["denied", str(exc)]
        except UnknownAssetError:
            cell["data"] = ["unknown"]
        req = urllib.request.Request(base + "api/data/" + eid + "/thickness/0.0",
                                     headers={{"Authorization": "token " + tok}})
        try:
            with urllib.request.urlopen(req) as r:
                cell["chunk"] = [r.status, r.read().hex()]
        except urllib.error.HTTPError as e:
            cell["chunk"] = [e.code, e.read().hex()]
        cell["search"] = eid in [e.id for e in gl.search("zebraword%d" % i)]
        out["cells"][marking] = cell
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def sessions(service_hub):
    """One hub-spawned session per approved user (spawned together), stopped afterwards."""
    for user in KERNEL_USERS:
        r = service_hub.hub_api("POST", f"/users/{user}/server",
                                json={"allocation": "open-local", "memory": "512MiB"})  # fmt: skip
        assert r.status_code in (201, 202), r.text
    deadline = time.monotonic() + 180
    pending = set(KERNEL_USERS)
    while pending and time.monotonic() < deadline:
        for user in list(pending):
            model = service_hub.hub_api("GET", f"/users/{user}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                pending.discard(user)
        time.sleep(0.5)
    assert not pending, f"sessions not ready: {pending}\n{service_hub.log()[-3000:]}"
    yield
    for user in KERNEL_USERS:
        service_hub.hub_api("DELETE", f"/users/{user}/server")


def test_an_unvetted_user_gets_no_kernel_at_all(service_hub):
    """Approval gates sessions on this hub, so the unvetted row of the kernel matrix is empty:
    the hub refuses the session before any code could ask the service."""
    r = service_hub.hub_api("POST", "/users/unvetted/server",
                            json={"allocation": "open-local", "memory": "512MiB"})  # fmt: skip
    assert r.status_code == 403 and "not been approved" in r.json()["message"]


def run_in_kernel(service_hub, user: str, code: str) -> str:
    import asyncio

    import requests
    from fixtures.hub import _execute

    token = service_hub.token(user)
    base = f"{service_hub.url}/user/{user}/api"
    r = requests.post(f"{base}/kernels", headers={"Authorization": f"token {token}"},
                      json={"name": "python3"}, timeout=60)  # fmt: skip
    r.raise_for_status()
    kid = r.json()["id"]
    try:

        async def execute() -> str:
            out = await _execute(service_hub.url, user, kid, token, code, 120)
            await asyncio.sleep(0.2)  # let the websocket close before the loop does
            return out

        return asyncio.run(execute())
    finally:
        requests.delete(f"{base}/kernels/{kid}", headers={"Authorization": f"token {token}"},
                        timeout=30)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("user", KERNEL_USERS)
def test_matrix_from_inside_a_kernel(service_hub, sessions, user):
    import numpy as np
    import xarray as xr

    out = run_in_kernel(service_hub, user, KERNEL_CODE.format(ids=DATASETS))
    result = json.loads(out.split("RESULT", 1)[1])
    assert result["remote"] is True
    for marking in MARKINGS:
        visible, may_read = expected(user, marking)
        cell = result["cells"][marking]
        assert cell["list"] == [visible, visible and may_read], (user, marking)
        assert cell["metadata"] == (["ok", may_read] if visible else ["unknown"]), (user, marking)
        if may_read:
            store = service_hub.data_root / "site" / f"{DATASETS[marking].split('/')[1]}.zarr"
            truth = float(xr.open_zarr(store)["thickness"][0, 0].values)
            assert cell["data"][0] == "ok" and np.isclose(cell["data"][1], truth)
            assert cell["data"][2] == marking
            assert cell["chunk"] == [200, service_hub.chunks[marking].hex()]
        else:
            assert cell["data"][0] == ("denied" if visible else "unknown"), (user, marking, cell)
            assert cell["chunk"][0] == (403 if visible else 404)
            assert service_hub.chunks[marking].hex() not in cell["chunk"][1]
        assert cell["search"] == visible
