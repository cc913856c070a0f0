"""Notebook widgets: views over the SDK (catalog browser, simulator panel, campaign monitor, cluster status).

>>> from genesis_lab.widgets import CatalogBrowser
>>> browser = CatalogBrowser()  # doctest: +SKIP
"""

from genesis_lab.widgets.catalog_browser import CatalogBrowser, open_code
from genesis_lab.widgets.simulator_panel import SimulatorPanel

__all__ = ["CatalogBrowser", "SimulatorPanel", "open_code"]
