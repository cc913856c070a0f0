"""``ClusterStatus``: the session's allocation, budget left, workers, and the dask dashboard link.

In a hub session the dashboard is reached through jupyter-server-proxy under the user's own
server prefix, so the hub's authentication guards it.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlparse

import ipywidgets as w

from genesis_lab.settings import get_settings

__all__ = ["ClusterStatus", "dashboard_url"]


def dashboard_url(link: str | None) -> str | None:
    """The dashboard link as the user's browser should open it.

    Inside a hub session (``JUPYTERHUB_SERVICE_PREFIX`` is ``/user/<name>/``) the scheduler's
    local dashboard port is proxied by jupyter-server-proxy: ``/user/<name>/proxy/<port>/status``.

    >>> dashboard_url("http://127.0.0.1:8787/status")  # outside a hub: unchanged
    'http://127.0.0.1:8787/status'
    """
    if not link:
        return None
    prefix = get_settings().service_prefix or ""
    if not prefix.startswith("/user/"):
        return link
    parsed = urlparse(link)
    if parsed.port is None:
        return link
    return f"{prefix.rstrip('/')}/proxy/{parsed.port}{parsed.path or '/status'}"


class ClusterStatus(w.VBox):
    """Allocation, budget left, workers and the dashboard of a cluster (or of no cluster yet).

    >>> from genesis_lab.compute import cluster
    >>> with cluster(n_workers=1, processes=False) as c:  # doctest: +SKIP
    ...     ClusterStatus(c)
    """

    def __init__(self, cluster: Any = None, **kwargs: Any):
        self.cluster = cluster
        self.info = w.HTML()
        self.info.add_class("genesis-cluster-status")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__(
            [self.info, self.refresh_button], **{"layout": w.Layout(max_width="100%"), **kwargs}
        )
        self.add_class("genesis-cluster-status-widget")
        self.refresh()

    def status(self) -> dict[str, Any]:
        """The numbers shown, from ``genesis_lab.compute`` (the same functions as the CLI)."""
        from genesis_lab.compute import get_allocation

        if self.cluster is not None:
            from genesis_lab.compute.clusters import cluster_status

            st = dict(cluster_status(self.cluster))
        else:
            st = {"workers": 0, "threads": 0, "jobs": 0, "dashboard": None}
            alloc = get_allocation(get_settings().allocation) if get_settings().allocation else None
            st["allocation"] = alloc.id if alloc else None
            st["scheduler"] = alloc.scheduler if alloc else "local"
            if alloc is not None:
                from genesis_lab.compute.ledger import used_core_hours

                st["used_core_hours"] = used_core_hours(alloc.id)
                st["budget_core_hours"] = alloc.budget_core_hours
        budget, used = st.get("budget_core_hours"), st.get("used_core_hours")
        st["budget_left_core_hours"] = None if budget is None else max(budget - (used or 0.0), 0.0)
        st["dashboard_url"] = dashboard_url(st.get("dashboard"))
        return st

    def refresh(self) -> dict[str, Any]:
        st = self.status()
        left = st["budget_left_core_hours"]
        budget = (
            "—" if left is None else f"{left:.2f} of {st['budget_core_hours']:g} core-hours left"
        )
        link = st["dashboard_url"]
        dash = (
            f"<a href='{html.escape(link)}' target='_blank' class='genesis-dashboard-link'>dashboard</a>"
            if link
            else "no cluster"
        )
        alloc = st.get("allocation") or "none"
        self.info.value = (
            f"<b>Allocation</b> {html.escape(str(alloc))} ({html.escape(str(st['scheduler']))}) · "
            f"<b>Budget</b> {budget} · <b>Workers</b> {st['workers']} · {dash}"
        )
        return st
