"""Checksums that cannot lie: bytes hashed on every open, shipped datasets' digests pinned.

A same-size edit with the modification time put back is caught (#18 item 6); the pin table is
current for the installed packages and agrees with the wheels' own RECORD hashes; a changed
package file is refused with the pinned and the found digest.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

import genesis_lab as gl
from genesis_lab.data import pins
from genesis_lab.data.checksum import sha256_file
from genesis_lab.data.package import PackageDataset
from genesis_lab.errors import ChecksumMismatchError, DataError
from genesis_lab.settings import reset_settings


def _edit_keeping_size_and_mtime(path: Path, old: bytes, new: bytes) -> None:
    assert len(old) == len(new)
    st = path.stat()
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_sha256_file_sees_a_same_size_same_mtime_edit(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"a,b\n1,2\n")
    before = sha256_file(path)
    assert before == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    _edit_keeping_size_and_mtime(path, b"1,2", b"1,3")
    assert sha256_file(path) == hashlib.sha256(b"a,b\n1,3\n").hexdigest() != before


def test_site_file_edited_in_place_is_refused_on_the_next_open(tmp_path, monkeypatch):
    data_root, catalog = tmp_path / "data", tmp_path / "catalog"
    data_root.mkdir()
    catalog.mkdir()
    monkeypatch.setenv("GENESIS_DATA_ROOT", str(data_root))
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(catalog))
    path = data_root / "sheet.csv"
    path.write_bytes(b"a,b\n1,2\n")
    recorded = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    entry = {
        "id": "semiconductors/sheet",
        "kind": "dataset",
        "domain": "semiconductors",
        "title": "sheet",
        "description": "a site table",
        "keyword": ["site"],
        "modified": "2026-01-01",
        "publisher": {"name": "Site"},
        "contactPoint": {"fn": "Site desk", "hasEmail": "desk@site.example"},
        "license": "CC0-1.0",
        "distribution": [{"downloadURL": "sheet.csv"}],
        "provenance": {
            "source": "sheet.csv",
            "agency": "NIST",
            "citation": "t",
            "version": "1",
            "sha256": recorded,
        },
    }
    (catalog / "site.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    reset_settings()
    assert gl.open_dataset("semiconductors/sheet").b.values.tolist() == [2]
    _edit_keeping_size_and_mtime(path, b"1,2", b"1,3")
    with pytest.raises(ChecksumMismatchError) as err:
        gl.open_dataset("semiconductors/sheet")
    assert recorded in str(err.value)
    assert hashlib.sha256(b"a,b\n1,3\n").hexdigest() in str(err.value)


def test_pin_table_is_current_for_the_installed_packages():
    now = pins.current_pins()
    assert len(now) >= 14
    table = pins.load_pins()
    for dataset_id, versions in now.items():
        for key, digest in versions.items():
            assert table.get(dataset_id, {}).get(key) == digest, (
                f"{dataset_id} ({key}) is not pinned or pinned differently: review the data, "
                "then run `python -m genesis_lab.data.pins --write`"
            )
    assert pins.main(["--check"]) == 0


def _record_hashes(dist_name: str) -> dict[Path, str]:
    out = {}
    for f in metadata.files(dist_name) or ():
        if f.hash is not None and f.hash.mode == "sha256":
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            out[Path(f.locate()).resolve()] = raw.hex()
    return out


def test_pinned_files_are_the_files_the_wheels_published():
    # the wheel's RECORD lists each file's sha256 as published on PyPI: the pinned digests were
    # taken from unmodified files
    from genesis_lab.catalog.registry import available, load_plugin

    checked = 0
    for dataset_id in available("dataset"):
        ds = load_plugin("dataset", dataset_id)
        if not isinstance(ds, PackageDataset) or ds.version() is None:
            continue
        record = _record_hashes(ds.package)
        for path in ds.source_files().values():
            assert record[path.resolve()] == sha256_file(path), path
            checked += 1
    assert checked >= 14


@pytest.fixture
def tiny_package(tmp_path, monkeypatch):
    """An installed package ``genesis_tiny_data`` 1.0 (a dist-info on sys.path) with one table."""
    root = tmp_path / "site-packages"
    pkg = root / "genesis_tiny_data"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "table.csv").write_bytes(b"x,y\n1,2\n")
    info = root / "genesis_tiny_data-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: genesis-tiny-data\nVersion: 1.0\n")
    monkeypatch.syspath_prepend(str(root))
    yield pkg
    sys.modules.pop("genesis_tiny_data", None)


def _tiny(**pinned) -> PackageDataset:
    def load(files):
        import pandas as pd

        return pd.read_csv(next(iter(files.values()))).rename_axis("row").to_xarray()

    return PackageDataset(
        id="semiconductors/tiny",
        title="Tiny",
        description="A tiny shipped table.",
        keyword=("tiny",),
        package="genesis-tiny-data",
        module="genesis_tiny_data",
        files=("table.csv",),
        agency="NIST",
        citation="test",
        license="CC0-1.0",
        modified="2026-01-01",
        loader=load,
        pins=pinned,
    )


def test_a_changed_package_file_is_refused_with_both_digests(tiny_package, monkeypatch):
    pinned = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    ds = _tiny(**{"1.0": pinned})

    def no_hashing(*args, **kwargs):
        raise AssertionError("the catalog entry must not hash the installed files")

    with monkeypatch.context() as m:
        m.setattr("genesis_lab.data.package.sha256_files", no_hashing)
        entry = ds.catalog_entry()
    assert entry.provenance.sha256 == pinned
    assert ds.open(entry).y.values.tolist() == [2]
    _edit_keeping_size_and_mtime(tiny_package / "table.csv", b"1,2", b"1,9")
    with pytest.raises(ChecksumMismatchError) as err:
        ds.open(ds.catalog_entry())
    assert pinned in str(err.value)
    assert hashlib.sha256(b"x,y\n1,9\n").hexdigest() in str(err.value)


def test_an_unpinned_version_is_named_and_not_opened(tiny_package):
    ds = _tiny(**{"0.9": "0" * 64})
    entry = ds.catalog_entry()
    assert entry.provenance.sha256 is None
    assert "no sha256 pinned" in entry.provenance.version
    with pytest.raises(DataError, match=r"genesis-tiny-data 1\.0.*\(0\.9\).*pins --write"):
        ds.open(entry)
