"""Find simulators by catalog id: the catalog entry names the entry-point plugin to load.

>>> from genesis_lab.simulators.registry import get_simulator
>>> get_simulator("biotechnology/michaelis-menten").id
'biotechnology/michaelis-menten'
"""

from __future__ import annotations

from genesis_lab.catalog import Entry, get_catalog, load_plugin
from genesis_lab.simulators.base import Simulator

__all__ = ["get_simulator", "list_simulators"]


def get_simulator(simulator_id: str) -> Simulator:
    """A ready-to-run simulator for a catalog id; an unknown id lists the closest ids.

    >>> from genesis_lab.simulators import get_simulator
    >>> sim = get_simulator("nuclear-energy/point-kinetics")
    >>> [p.name for p in sim.parameters][:1]
    ['reactivity']
    """
    entry = get_catalog().get(simulator_id, kind="simulator")
    cls = load_plugin("simulator", entry.loader or entry.id)
    return cls()


def list_simulators(domain: str | None = None) -> list[Entry]:
    """Catalog entries of every simulator (optionally of one domain), sorted by id."""
    return get_catalog().search(kind="simulator", domain=domain)
