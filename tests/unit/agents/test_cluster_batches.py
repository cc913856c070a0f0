"""Batches run on a real two-process dask LocalCluster; each trial is stored as it finishes."""

from __future__ import annotations

import os

import pytest

from genesis_lab.agents import Campaign


def _where(p):
    import os as _os
    import time as _time

    _time.sleep(0.05)
    if p["x"] > 0.9:
        raise ValueError("out of range on the worker")
    return {"y": (p["x"] - 0.5) ** 2, "pid": float(_os.getpid())}


def test_batches_run_on_the_cluster_workers(dask_client):
    c = Campaign({"x": (0.0, 1.0)}, "y", "random", batch_size=4, budget=12,
                 experiment=_where, seed=5)  # fmt: skip
    c.run(dask_client)
    trials = c.trials
    assert len(trials) == 12 and c.stats["rounds"] == 3
    pids = {t["outputs"]["pid"] for t in trials if t["status"] == "complete"}
    worker_pids = set(dask_client.run(os.getpid).values())
    assert pids <= {float(p) for p in worker_pids} and len(pids) == 2
    assert float(os.getpid()) not in pids
    failed = [t for t in trials if t["status"] == "failed"]
    assert all("out of range on the worker" in t["error"] for t in failed)
    assert [t["round"] for t in trials] == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.parametrize("strategy", ["trust-region", "liar-worst", "pending"])
def test_bayes_batch_on_the_cluster_proposes_distinct_points(dask_client, strategy):
    from genesis_lab.agents.benchmark_functions import BRANIN

    c = Campaign(BRANIN.space, "y", "bayes", batch_size=4, budget=16,
                 experiment=BRANIN.function, seed=0,
                 policy_options={"batch_strategy": strategy})  # fmt: skip
    c.run(dask_client)
    trials = c.trials
    assert len(trials) == 16 and c.stats["rounds"] == 4
    last = [tuple(t["params"].values()) for t in trials[-4:]]
    assert len(set(last)) == 4
    # better than the random points it started from (every strategy; Branin's range is ~300)
    first = min(t["values"][0] for t in trials[:4])
    assert c.best()["values"][0] < first


def test_campaign_over_a_simulator_on_the_session_cluster():
    """The space comes from the simulator's schema; batches go to ``compute.cluster()``."""
    import genesis_lab as gl

    sim = gl.get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    fixed = {p.name: p.default for p in sim.parameters if p.name not in ("power", "speed")}
    c = Campaign(sim, {"melt_pool_width": "max"}, "random", fixed=fixed, batch_size=2,
                 budget=4, constraints={"melt_pool_length": ("<=", 1e-3)}, seed=0)  # fmt: skip
    assert c.space.names == ["power", "speed"] and c.space["power"].unit == "W"
    c.run("session")
    trials = c.trials
    assert len(trials) == 4 and all(t["status"] == "complete" for t in trials)
    for t in trials[:2]:  # the stored outputs are the simulator's, for the stored parameters
        direct = sim.run({**fixed, **t["params"]})
        assert t["outputs"]["melt_pool_width"] == float(direct["melt_pool_width"])
    assert c.to_dataset()["power"].attrs["units"] == "W"
    assert not c._owned  # the session cluster was closed
