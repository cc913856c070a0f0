"""Compute: allocations of the site, the cluster factory (dask-jobqueue or LocalCluster), usage ledger.

Cluster code (dask, distributed) is imported on first use, so ``genesis_lab.compute`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from genesis_lab.compute.allocations import (
    Allocation,
    allocations_for,
    check_allocation,
    get_allocation,
    get_allocations,
    session_environment,
)
from genesis_lab.compute.ledger import Ledger, UsageRecord, get_ledger, used_core_hours

__all__ = [
    "Allocation",
    "Ledger",
    "UsageRecord",
    "allocations_for",
    "check_allocation",
    "check_versions",
    "cluster",
    "cluster_status",
    "connect",
    "get_allocation",
    "get_allocations",
    "get_ledger",
    "job_script",
    "run_doctor",
    "session_environment",
    "used_core_hours",
]

_LAZY = {
    "cluster": "genesis_lab.compute.clusters",
    "cluster_status": "genesis_lab.compute.clusters",
    "connect": "genesis_lab.compute.clusters",
    "check_versions": "genesis_lab.compute.clusters",
    "job_script": "genesis_lab.compute.clusters",
    "run_doctor": "genesis_lab.compute.doctor",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genesis_lab.compute' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
