"""Cache key inputs, and the results store's commit point (rename), index and stale cleanup."""

import json
import os
import subprocess
import sys

from genesis_lab.pipelines.provenance import cache_key, package_versions
from genesis_lab.pipelines.store import ResultsStore


def test_cache_key_covers_notebook_parameters_inputs_and_packages():
    base = (b'{"cells": []}', {"n": 1}, [{"id": "a/b", "version": "1"}], {"numpy": "2.0"})
    key = cache_key(*base)
    assert key == cache_key(*base)
    assert cache_key(b'{"cells": [1]}', *base[1:]) != key
    assert cache_key(base[0], {"n": 2}, *base[2:]) != key
    assert cache_key(base[0], {"n": 1.0}, *base[2:]) != key  # 1 and 1.0 are different runs
    assert cache_key(*base[:2], [{"id": "a/b", "version": "2"}], base[3]) != key
    assert cache_key(*base[:3], {"numpy": "2.1"}) != key
    # parameter order does not matter
    assert cache_key(base[0], {"a": 1, "b": 2}, [], {}) == cache_key(
        base[0], {"b": 2, "a": 1}, [], {}
    )


def test_package_versions_name_the_runtime():
    versions = package_versions(("pyyaml",))
    assert versions["papermill"] and versions["nbclient"] and versions["pyyaml"]
    assert versions["python"].count(".") == 2


def test_a_run_is_visible_only_after_commit(tmp_path):
    store = ResultsStore(tmp_path)
    key = "ab" * 32
    run_id = store.new_run_id(key)
    work = store.begin("demo", run_id)
    (work / "notebook.ipynb").write_text("{}")
    assert store.runs("demo") == []
    assert store.lookup("demo", key) is None
    record = store.commit(work, {"challenge": "demo", "status": "completed", "cache_key": key})
    assert [r.run_id for r in store.runs("demo")] == [run_id]
    assert store.lookup("demo", key) == record
    assert store.find(run_id).path == record.path
    assert not work.exists()


def test_failed_runs_are_recorded_but_never_served_from_the_cache(tmp_path):
    store = ResultsStore(tmp_path)
    key = "cd" * 32
    work = store.begin("demo", store.new_run_id(key))
    store.commit(work, {"challenge": "demo", "status": "failed", "cache_key": key})
    assert [r.state for r in store.runs("demo")] == ["failed"]
    assert store.lookup("demo", key) is None


def test_working_folders_of_dead_runners_are_cleared(tmp_path):
    store = ResultsStore(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / "demo" / ".tmp-old"
    stale.mkdir(parents=True)
    (stale / ".pid").write_text(dead)
    live = tmp_path / "demo" / ".tmp-live"
    live.mkdir()
    (live / ".pid").write_text(str(os.getpid()))
    store.begin("demo", store.new_run_id("ef" * 32))
    assert not stale.exists()
    assert live.exists()


def test_index_pointing_at_a_missing_run_is_a_miss(tmp_path):
    store = ResultsStore(tmp_path)
    (tmp_path / "demo" / ".keys").mkdir(parents=True)
    (tmp_path / "demo" / ".keys" / ("aa" * 32)).write_text(json.dumps({"run_id": "gone"}))
    assert store.lookup("demo", "aa" * 32) is None


def test_simulator_inputs_carry_the_sha256_of_their_code(tmp_path):
    import hashlib
    import importlib

    from fixtures.challenges import write_demo_challenge

    from genesis_lab.pipelines.challenge import load_challenge
    from genesis_lab.pipelines.provenance import input_versions
    from genesis_lab.simulators import get_simulator

    folder = write_demo_challenge(tmp_path, "sim", simulators=["nuclear-energy/point-kinetics"])
    [item] = input_versions(load_challenge(folder))
    module = importlib.import_module(type(get_simulator(item["id"])).__module__)
    with open(module.__file__, "rb") as fh:
        assert item["code_sha256"] == hashlib.sha256(fh.read()).hexdigest()
    changed = [{**item, "code_sha256": "0" * 64}]
    assert cache_key(b"{}", {}, [item], {}) != cache_key(b"{}", {}, changed, {})


def test_the_kernel_environment_lists_every_installed_package():
    import importlib.metadata
    import platform

    from genesis_lab.pipelines.environment import kernel_environment

    env = kernel_environment("python3")  # the kernel of the tests' interpreter
    installed = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
    assert {n: p["version"] for n, p in env["packages"].items()} == installed
    assert env["python"] == platform.python_version()
    assert env["platform"] == platform.platform()
    assert env["packages"]["genesis-lab"]["local"]  # an editable checkout, not from an index
