"""Plugin registries for datasets, models and simulators, discovered through entry points.

Each group (``genesis_lab.datasets``, ``genesis_lab.models``, ``genesis_lab.simulators``) maps an
entry-point name to an object with a ``catalog_entry()`` method returning an
:class:`~genesis_lab.catalog.Entry`. Datasets also have ``open(entry, **kwargs)``, models
``load(entry)``, simulators are :class:`~genesis_lab.simulators.Simulator` classes. Discovery
happens once and is cached; a broken or duplicate plugin warns and never breaks the others.
"""

from __future__ import annotations

import functools
import warnings
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from genesis_lab import _cache_registry

__all__ = ["GROUPS", "PluginWarning", "available", "load_plugin", "plugin_entries"]

GROUPS: dict[str, str] = {
    "dataset": "genesis_lab.datasets",
    "model": "genesis_lab.models",
    "simulator": "genesis_lab.simulators",
}


class PluginWarning(RuntimeWarning):
    """A plugin could not be loaded or described; the others still are."""


@functools.cache
def available(kind: str) -> dict[str, EntryPoint]:
    """Entry points of one asset kind by name; duplicates warn and the first one wins."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUPS[kind]):
        if ep.name in found and found[ep.name].value != ep.value:
            warnings.warn(
                f"Two {kind} plugins are named {ep.name!r} ({found[ep.name].value} and "
                f"{ep.value}); using the first. Uninstall or rename one.",
                PluginWarning,
                stacklevel=2,
            )
            continue
        found[ep.name] = ep
    return found


@functools.cache
def load_plugin(kind: str, name: str) -> Any:
    """The object behind one entry point (imported on first use)."""
    return available(kind)[name].load()


@functools.cache
def plugin_entries(kind: str) -> tuple[Any, ...]:
    """Catalog entries of every plugin of a kind; a broken plugin warns and is left out."""
    out = []
    for name, ep in available(kind).items():
        try:
            obj = load_plugin(kind, name)
            entry = obj.catalog_entry()
        except Exception as exc:
            warnings.warn(
                f"The {kind} plugin {name!r} ({ep.value}) could not be loaded: "
                f"{type(exc).__name__}: {exc}. It is left out of the catalog.",
                PluginWarning,
                stacklevel=2,
            )
            continue
        if entry.kind != kind:
            warnings.warn(
                f"The {kind} plugin {name!r} describes a {entry.kind!r}; left out.",
                PluginWarning,
                stacklevel=2,
            )
            continue
        out.append(entry.model_copy(update={"loader": entry.loader or name}))
    return tuple(out)


for _fn in (available, load_plugin, plugin_entries):
    _cache_registry.register(_fn.cache_clear)
