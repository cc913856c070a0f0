"""Safe path resolution under the data root, and what the service shows of an entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genesis_lab.access.policy import Decision
from genesis_lab.catalog import Entry
from genesis_lab.service.hubconfig import genesis_roles, genesis_service, session_environment
from genesis_lab.service.openapi import openapi_document
from genesis_lab.service.store import UnsafePathError, dataset_store, resolve_file, store_files
from genesis_lab.service.views import dcat_catalog, entry_view


@pytest.fixture
def world(tmp_path):
    root = tmp_path / "data"
    store = root / "site" / "a.zarr"
    (store / "v").mkdir(parents=True)
    (store / ".zmetadata").write_text("{}")
    (store / "v" / "0.0").write_bytes(b"chunk")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (store / "leak").symlink_to(outside)
    (root / "other.txt").write_text("other dataset")
    return root, store, outside


def test_resolves_files_inside_the_store(world):
    root, store, _ = world
    assert resolve_file(store, root, "v/0.0").read_bytes() == b"chunk"
    assert resolve_file(store, root, ".zmetadata").name == ".zmetadata"
    with pytest.raises(FileNotFoundError):
        resolve_file(store, root, "v/9.9")
    with pytest.raises(FileNotFoundError):
        resolve_file(store, root, "v")  # a folder is not a file


@pytest.mark.parametrize(
    "attempt",
    ["../other.txt", "../../other.txt", "v/../../../secret.txt", "/etc/passwd", "leak",
     "v/./0.0", "v//0.0", "..", ".", "", "v\\..\\..\\x", "v/0.0\x00", "./v/0.0"],
)  # fmt: skip
def test_refuses_paths_that_leave_or_are_not_plain(world, attempt):
    root, store, _ = world
    with pytest.raises(UnsafePathError):
        resolve_file(store, root, attempt)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["..", ".", "v", "0.0", "leak", "x", "", "%2e%2e", "..."]),
                min_size=1, max_size=6))  # fmt: skip
def test_any_path_resolves_inside_the_store_or_is_refused(tmp_path_factory, parts):
    base = tmp_path_factory.getbasetemp() / "hypo"
    root = base / "data"
    store = root / "s.zarr"
    if not store.exists():
        (store / "v").mkdir(parents=True)
        (store / "v" / "0.0").write_bytes(b"c")
        (base / "secret").write_text("s")
        (store / "leak").symlink_to(base / "secret")
    try:
        target = resolve_file(store, root, "/".join(parts))
    except (UnsafePathError, FileNotFoundError):
        return
    assert target.resolve().is_relative_to(store.resolve())


def test_store_listing_leaves_out_symlinks_that_leave(world):
    root, store, _ = world
    assert store_files(store, root) == [".zmetadata", "v/0.0"]


def entry(marking="public", url="site/a.zarr", license="CC0-1.0") -> Entry:
    return Entry(
        id="semiconductors/a", kind="dataset", domain="semiconductors", title="A",
        description="A.", keyword=["a"], modified="2026-01-01", publisher={"name": "P"},
        contactPoint={"fn": "C", "hasEmail": "c@example.org"}, license=license,
        provenance={"source": "s", "agency": "g", "citation": "c", "version": "1"},
        distribution=[{"downloadURL": url, "format": "zarr"}], marking=marking,
    )  # fmt: skip


def test_dataset_store_only_inside_the_data_root(world, tmp_path):
    root, store, outside = world
    assert dataset_store(entry(), root) == store.resolve()
    assert dataset_store(entry(url=f"file://{store}"), root) == store.resolve()
    assert dataset_store(entry(url=str(outside)), root) is None
    assert dataset_store(entry(url="../secret.txt"), root) is None
    assert dataset_store(entry(url="https://example.org/a.zarr"), root) is None


def test_entry_view_hides_distributions_and_server_paths(world):
    root, store, _ = world
    e = entry("controlled")
    hidden = entry_view(e, Decision(True, False, "needs clearance"), store, "http://h/s/")
    assert "distribution" not in hidden and "served" not in hidden
    assert hidden["access"] == {"may_read": False, "reason": "needs clearance"}
    assert str(root) not in repr(hidden) and "source_file" not in hidden
    shown = entry_view(e, Decision(True, True, "ok"), store, "http://h/s/")
    assert shown["distribution"][0]["accessURL"] == "http://h/s/api/data/semiconductors/a/"
    assert shown["accessLevel"] == "restricted public"
    assert "site/a.zarr" not in repr(shown["distribution"])


def test_dcat_catalog_rights_and_license_urls(world):
    _, store, _ = world
    doc = dcat_catalog(
        [
            (entry("controlled"), Decision(True, False, "no"), store),
            (
                entry("public", license="Public domain, see notes"),
                Decision(True, True, "ok"),
                store,
            ),
        ],
        "http://h/s/",
    )
    a, b = doc["dataset"]
    assert "rights" in a and "distribution" not in a
    assert a["license"] == "https://spdx.org/licenses/CC0-1.0.html"
    # public-domain data carry the Public Domain Mark (genesis_lab.catalog.license)
    assert "rights" not in b and b["distribution"]
    assert b["license"] == "https://creativecommons.org/publicdomain/mark/1.0/"


def test_openapi_names_every_route():
    doc = openapi_document("/services/genesis/")
    paths = set(doc["paths"])
    for p in ("api/catalog", "api/catalog/{domain}/{name}", "api/data/{domain}/{name}",
              "api/data/{domain}/{name}/{path}", "api/dcat", "api/openapi.json", "api/runs",
              "api/schedules", "api/datasets/{domain}/{name}"):  # fmt: skip
        assert f"/services/genesis/{p}" in paths


def test_hub_config_helpers():
    svc = genesis_service(port=12345)
    assert svc["name"] == "genesis" and svc["oauth_no_confirm"] is True
    assert svc["command"][-1] == "genesis_lab.service"
    assert svc["environment"]["GENESIS_HOME"] == os.environ["GENESIS_HOME"]
    scopes = {r["name"]: r["scopes"] for r in genesis_roles()}
    assert "access:services!service=genesis" in scopes["user"]
    assert "access:services!service=genesis" in scopes["server"]
    assert (
        session_environment("http://x:1")["GENESIS_SERVICE_URL"] == "http://x:1/services/genesis/"
    )
    assert Path(svc["command"][0]).name.startswith("python")
