"""PackageDataset: cheap catalog entries, a missing package named with its extra, option checks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from genesis_lab.data.package import PackageDataset, package_dataset
from genesis_lab.errors import ChecksumMismatchError, MissingDependencyError

PACKAGES = ["periodictable", "radioactivedecay", "mendeleev", "janaf", "biotite", "xraydb", "pvlib"]


def test_catalog_entries_of_builtin_datasets_import_no_data_package():
    code = (
        "from genesis_lab.catalog.registry import available, load_plugin\n"
        "ids = [i for i, ep in available('dataset').items()\n"
        "       if ep.value.startswith('genesis_lab.data.builtin.')]\n"
        "entries = [load_plugin('dataset', i).catalog_entry() for i in ids]\n"
        "assert all(e.provenance.sha256 for e in entries)\n"
        "import sys, json; print(json.dumps([len(entries), sorted(sys.modules)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert n >= 12
    assert not [p for p in [*PACKAGES, "xarray", "zarr", "scipy.constants"] if p in modules]


def _absent() -> PackageDataset:
    @package_dataset(
        id="biotechnology/absent",
        title="Absent",
        description="Data from a package that is not installed.",
        keyword=("absent",),
        package="genesis-lab-absent-package",
        module="genesis_lab_absent_package",
        files=("table.csv",),
        agency="NIH",
        citation="none",
        license="CC0-1.0",
        modified="2026-01-01",
        extra="data",
    )
    def absent(files):
        raise AssertionError("never called")

    return absent


def test_missing_package_still_describes_itself_and_open_names_the_extra():
    ds = _absent()
    entry = ds.catalog_entry()
    assert entry.provenance.sha256 is None
    assert "not installed" in entry.provenance.version
    with pytest.raises(MissingDependencyError, match=r"genesis-lab\[data\]") as err:
        ds.open(entry)
    assert err.value.package == "genesis-lab-absent-package"


def test_changed_package_files_are_a_checksum_mismatch():
    from genesis_lab.data.builtin.quantum import codata_constants

    entry = codata_constants.catalog_entry()
    forged = entry.model_copy(
        update={"provenance": entry.provenance.model_copy(update={"sha256": "0" * 64})}
    )
    with pytest.raises(ChecksumMismatchError, match=r"0{64}"):
        codata_constants.open(forged)
