"""The catalog of datasets, models, simulators and challenges, with DCAT-US metadata.

>>> from genesis_lab.catalog import get_catalog
>>> entry = get_catalog().get("nuclear-energy/neutron-scattering-lengths")  # doctest: +SKIP

The module itself is callable: ``genesis_lab.catalog()`` returns the notebook catalog browser.
A callable module is how ``gl.catalog()`` and the ``genesis_lab.catalog`` package share one name
(importing a subpackage always binds its name on the parent package).
"""

import sys
import types

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


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from genesis_lab._api import catalog

        return catalog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
