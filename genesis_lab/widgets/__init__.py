"""Notebook widgets: views over the SDK (catalog browser, simulator panel, campaign monitor, cluster status).

>>> from genesis_lab.widgets import CatalogBrowser
>>> browser = CatalogBrowser()  # doctest: +SKIP
"""

from typing import Any

from genesis_lab.widgets.catalog_browser import CatalogBrowser, open_code
from genesis_lab.widgets.cluster_status import ClusterStatus
from genesis_lab.widgets.simulator_panel import SimulatorPanel

__all__ = [
    "CampaignMonitor",
    "CatalogBrowser",
    "ChallengeForm",
    "ClusterStatus",
    "SimulatorPanel",
    "open_code",
]


def __getattr__(name: str) -> Any:
    if name == "CampaignMonitor":  # imports the agents layer only when asked for
        from genesis_lab.widgets.campaign_monitor import CampaignMonitor

        return CampaignMonitor
    if name == "ChallengeForm":  # imports the pipelines layer only when asked for
        from genesis_lab.widgets.challenge_form import ChallengeForm

        return ChallengeForm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
