"""The README's "A tour of the SDK" block runs as written and its campaign finds a sensible optimum.

The block is taken from README.md and executed. Its campaign (power and speed only) must
reach the brute-force optimum of the same problem computed here on a fine grid: the shortest
Rosenthal melt pool at least 100 µm wide (length within 3%), with every proposed point valid.
"""

import re

import numpy as np
import pytest

from genesis_lab.settings import REPO_DIR


def tour_code() -> str:
    text = (REPO_DIR / "README.md").read_text()
    section = text.split("## A tour of the SDK", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


@pytest.mark.slow  # a GP fit and a 12-trial campaign
def test_readme_tour_runs_and_its_campaign_reaches_the_constrained_optimum(capsys, monkeypatch):
    """``gl.cluster()`` is swapped for a one-worker threaded LocalCluster (the allocation's
    cluster is not the point here; tests/unit/compute covers it)."""
    from distributed import LocalCluster

    import genesis_lab

    made = []

    def small_cluster():
        made.append(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
        return made[-1]

    monkeypatch.setattr(genesis_lab, "cluster", small_cluster, raising=False)
    code = tour_code()
    assert 'Space.from_simulator(sim, include={"power": (100, 400), "speed": (0.2, 1.0)})' in code
    namespace: dict = {}
    try:
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        for c in made:
            c.close()
        capsys.readouterr()
    assert made, "the tour's sweep ran on gl.cluster()"
    campaign, best, sim = namespace["campaign"], namespace["best"], namespace["sim"]
    assert campaign.space.names == ["power", "speed"]
    assert all(t["status"] == "complete" for t in campaign.trials)
    assert best is not None and best["feasible"]
    # independent optimum: a fine grid over the same box, same constraint
    power = np.linspace(100.0, 400.0, 31)
    speed = np.linspace(0.2, 1.0, 81)
    pp, vv = np.meshgrid(power, speed, indexing="ij")
    ds = sim.run_batch({"power": pp.ravel(), "speed": vv.ravel()})
    length, width = ds["melt_pool_length"].values, ds["melt_pool_width"].values
    reference = length[width >= 100e-6].min()
    assert reference * 0.999 <= best["values"][0] <= reference * 1.03
    for t in campaign.trials:  # the campaign searched the README's box and nothing else
        assert 100.0 <= t["params"]["power"] <= 400.0 and 0.2 <= t["params"]["speed"] <= 1.0
    assert best["outputs"]["melt_pool_width"] >= 100e-6
    assert best["params"]["power"] < 150.0  # the least power that fuses the track
