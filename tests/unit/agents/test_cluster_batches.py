"""Batches run on a real two-process dask LocalCluster; each trial is stored as it finishes."""

from __future__ import annotations

import os

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


def test_bayes_batch_on_the_cluster_proposes_distinct_points(dask_client):
    from genesis_lab.agents.benchmark_functions import BRANIN

    c = Campaign(BRANIN.space, "y", "bayes", batch_size=4, budget=16,
                 experiment=BRANIN.function, seed=0)  # fmt: skip
    c.run(dask_client)
    trials = c.trials
    assert len(trials) == 16 and c.stats["rounds"] == 4
    last = [tuple(t["params"].values()) for t in trials[-4:]]
    assert len(set(last)) == 4
    assert BRANIN.regret(c.best()["values"][0]) < 2.0
