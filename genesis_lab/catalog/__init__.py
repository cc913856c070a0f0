"""The catalog of datasets, models, simulators and challenges, with DCAT-US metadata.

>>> from genesis_lab.catalog import get_catalog
>>> entry = get_catalog().get("nuclear-energy/neutron-scattering-lengths")  # doctest: +SKIP
"""

from genesis_lab.catalog.catalog import Catalog, CatalogWarning, get_catalog, load_catalog
from genesis_lab.catalog.entry import (
    ACCESS_LEVEL,
    DOMAINS,
    KINDS,
    MARKINGS,
    ContactPoint,
    Distribution,
    Entry,
    Provenance,
    Publisher,
    entry_from_mapping,
)
from genesis_lab.catalog.registry import PluginWarning, load_plugin

__all__ = [
    "ACCESS_LEVEL",
    "DOMAINS",
    "KINDS",
    "MARKINGS",
    "Catalog",
    "CatalogWarning",
    "ContactPoint",
    "Distribution",
    "Entry",
    "PluginWarning",
    "Provenance",
    "Publisher",
    "entry_from_mapping",
    "get_catalog",
    "load_catalog",
    "load_plugin",
]
