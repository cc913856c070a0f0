"""The run cache on a real kernel: editing a simulator's source (same declared version) misses it.

Issue #13: after changing a decay constant in a simulator, ``challenge run`` returned the stale
cached metric. Here a plugin simulator is installed for the test, a challenge records its output,
and the source changes between runs.
"""

from __future__ import annotations

import importlib
import math
import os
import sys

import nbformat
import yaml
from fixtures.tiny_simulator import SIMULATOR_ID, install_tiny_simulator

from genesis_lab.pipelines import run
from genesis_lab.settings import reset_settings

CELLS = [
    "import genesis_lab as gl",
    f"ds = gl.get_simulator({SIMULATOR_ID!r}).run({{'t': t}})\n"
    "gl.record_metrics(remaining=float(ds['remaining']))",
]


def test_a_changed_simulator_misses_the_run_cache(tmp_path, monkeypatch):
    from genesis_lab.catalog import registry

    site = tmp_path / "site"
    set_decay = install_tiny_simulator(site)
    monkeypatch.syspath_prepend(str(site))
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)  # the kernel imports the plugin too
    folder = tmp_path / "challenges" / "decay"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell("t = 10.0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in CELLS)]
    nbformat.write(nb, folder / "challenge.ipynb")
    spec = {
        "id": "decay",
        "domain": "nuclear-energy",
        "title": "Decay",
        "question": "How much is left after t?",
        "parameters": {"t": {"type": "float", "default": 10.0, "min": 0, "max": 100, "unit": "s"}},
        "metrics": {"remaining": {"rel_tol": 1e-12}},
        "simulators": [SIMULATOR_ID],
    }
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("GENESIS_CHALLENGE_PATHS", str(folder.parent))
    importlib.invalidate_caches()
    registry.available.cache_clear()
    reset_settings()
    try:
        first = run("decay")
        assert not first.cached
        assert first.metrics["remaining"] == math.exp(-0.305)
        assert run("decay").cached
        set_decay(0.0350)
        changed = run("decay")
        assert not changed.cached, "a changed simulator was served from the cache"
        assert changed.metrics["remaining"] == math.exp(-0.35)
    finally:
        sys.modules.pop("genesis_tiny_sim", None)
        registry.available.cache_clear()
        reset_settings()
