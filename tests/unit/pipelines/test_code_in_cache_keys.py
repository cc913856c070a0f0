"""Cache keys include the simulator's code: an edited simulator misses the sweep and run caches.

A plugin simulator is installed for the test (a module and a dist-info with its entry point on
``sys.path``), used, then its source is edited without touching its declared ``version``.
"""

from __future__ import annotations

import importlib
import math
import os
import sys

import pytest
from fixtures.challenges import write_demo_challenge
from fixtures.tiny_simulator import install_tiny_simulator

from genesis_lab.settings import reset_settings


@pytest.fixture
def tiny_simulator(tmp_path, monkeypatch):
    """Install module ``genesis_tiny_sim`` as the simulator plugin ``nuclear-energy/tiny-decay``;
    yields a function that rewrites its decay constant (and re-imports it)."""
    from genesis_lab.catalog import registry

    root = tmp_path / "site"
    set_decay = install_tiny_simulator(root)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    registry.available.cache_clear()
    reset_settings()

    yield set_decay
    sys.modules.pop("genesis_tiny_sim", None)
    registry.available.cache_clear()
    reset_settings()


def test_sweep_cache_misses_when_the_simulator_code_changes(tiny_simulator):
    from genesis_lab.simulators import get_simulator, sweep

    def remaining():
        sim = get_simulator("nuclear-energy/tiny-decay")
        ds = sweep(sim, {"t": [10.0, 20.0]}, progress=False, cache=True)
        return ds.remaining.values.tolist()

    first = remaining()
    assert first == pytest.approx([math.exp(-0.305), math.exp(-0.61)], rel=1e-12)
    assert remaining() == first  # the cached chunks
    tiny_simulator(0.0350)
    assert remaining() == pytest.approx([math.exp(-0.35), math.exp(-0.70)], rel=1e-12)


def test_run_cache_key_changes_with_the_simulator_code_not_its_version(
    tiny_simulator, tmp_path, monkeypatch
):
    from genesis_lab.pipelines.runner import prepare

    root = tmp_path / "challenges"
    write_demo_challenge(root, simulators=["nuclear-energy/tiny-decay"])
    monkeypatch.setenv("GENESIS_CHALLENGE_PATHS", str(root))
    reset_settings()
    before = prepare("demo")
    assert prepare("demo").key == before.key
    [code] = before.code
    assert code["id"] == "nuclear-energy/tiny-decay"
    assert code["distribution"] == "genesis-tiny-sim" and code["version"] == "1.0"
    tiny_simulator(0.0350)
    after = prepare("demo")
    assert after.code[0]["sha256"] != code["sha256"]
    assert after.key != before.key
    tiny_simulator(0.0305)  # the same source again: the same key
    assert prepare("demo").key == before.key


def test_fingerprint_covers_the_base_class_and_a_loader_module():
    from genesis_lab.data.builtin.semiconductors import cec_pv_modules
    from genesis_lab.simulators.fingerprint import code_fingerprint
    from genesis_lab.simulators.nuclear_energy import PointKinetics

    assert code_fingerprint(PointKinetics)["modules"].split(",") == [
        "genesis_lab.simulators.nuclear_energy",
        "genesis_lab.simulators.base",
    ]
    modules = code_fingerprint(cec_pv_modules)["modules"].split(",")
    assert modules[:2] == ["genesis_lab.data.builtin.semiconductors", "genesis_lab.data.package"]


def test_run_cache_key_changes_with_an_unpinned_site_file(tmp_path, monkeypatch):
    import yaml

    from genesis_lab.pipelines.runner import prepare

    data_root, catalog, challenges = tmp_path / "data", tmp_path / "catalog", tmp_path / "ch"
    data_root.mkdir()
    catalog.mkdir()
    (data_root / "sheet.csv").write_bytes(b"a,b\n1,2\n")
    entry = {
        "id": "semiconductors/sheet",
        "kind": "dataset",
        "domain": "semiconductors",
        "title": "sheet",
        "description": "an unpinned site table",
        "keyword": ["site"],
        "modified": "2026-01-01",
        "publisher": {"name": "Site"},
        "contactPoint": {"fn": "Site desk", "hasEmail": "desk@site.example"},
        "license": "CC0-1.0",
        "distribution": [{"downloadURL": "sheet.csv"}],
        "provenance": {"source": "sheet.csv", "agency": "NIST", "citation": "t", "version": "1"},
    }
    (catalog / "site.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    write_demo_challenge(challenges, datasets=["semiconductors/sheet"])
    monkeypatch.setenv("GENESIS_DATA_ROOT", str(data_root))
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(catalog))
    monkeypatch.setenv("GENESIS_CHALLENGE_PATHS", str(challenges))
    reset_settings()
    before = prepare("demo").key
    path = data_root / "sheet.csv"
    st = path.stat()
    path.write_bytes(b"a,b\n1,3\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert prepare("demo").key != before
