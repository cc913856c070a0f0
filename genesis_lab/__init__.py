"""genesis-lab: datasets, simulators, models and agents for the Genesis Mission, in Jupyter.

Everything public is imported lazily on first use, so ``import genesis_lab`` stays fast.

>>> import genesis_lab as gl
>>> hits = gl.search("neutron", kind="dataset")
>>> ds = gl.open_dataset(hits[0].id)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"
_LAZY: dict[str, str] = {
    "Campaign": "genesis_lab.agents.campaign:Campaign",
    "catalog": "genesis_lab.catalog",
    "cluster": "genesis_lab.compute.clusters:cluster",
    "errors": "genesis_lab.errors",
    "get_settings": "genesis_lab.settings:get_settings",
    "get_simulator": "genesis_lab.simulators.registry:get_simulator",
    "load_model": "genesis_lab.models.registry:load_model",
    "open_dataset": "genesis_lab.data:open_dataset",
    "record_metrics": "genesis_lab.pipelines.metrics:record_metrics",
    "search": "genesis_lab._api:search",
    "sweep": "genesis_lab.simulators.sweep:sweep",
    "train": "genesis_lab.models.train:train",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'genesis_lab' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
