"""``CampaignMonitor``: a live convergence plot and trial table while a campaign runs.

It is the campaign's ``on_trial`` callback: every finished trial redraws from the campaign's own
results functions (best-so-far, Pareto front).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from genesis_lab.agents import Campaign

__all__ = ["CampaignMonitor"]

TABLE_ROWS = 15


class CampaignMonitor(w.VBox):
    """Watch a campaign: status line, convergence plot, the latest trials.

    >>> import genesis_lab as gl
    >>> c = gl.Campaign({"x": (0.0, 1.0)}, "y", experiment=lambda p: {"y": p["x"]},
    ...                 policy="random", budget=5, seed=0)
    >>> monitor = CampaignMonitor(c)
    >>> monitor.run().trials_seen
    5
    """

    def __init__(self, campaign: Campaign, **kwargs: Any):
        self.campaign = campaign
        self.trials_seen = 0
        self.status = w.HTML()
        self.status.add_class("genesis-campaign-status")
        self.plot = w.Output()
        self.plot.add_class("genesis-campaign-plot")
        self.table = w.HTML()
        self.table.add_class("genesis-campaign-table")
        self.table.layout = w.Layout(overflow_x="auto", max_width="100%")
        super().__init__(
            [self.status, self.plot, self.table], **{"layout": w.Layout(max_width="100%"), **kwargs}
        )
        self.add_class("genesis-campaign-monitor")
        from genesis_lab.widgets.plots import ensure_bokeh

        ensure_bokeh()
        self.update()

    def run(self, client: Any = None, **kwargs: Any) -> CampaignMonitor:
        """Run the campaign (on ``client`` if given), redrawing after every trial."""
        self.campaign.run(client, on_trial=self.update, **kwargs)
        return self

    def update(self, _record: Any = None) -> None:
        """Redraw from the campaign's stored trials."""
        trials = self.campaign.trials
        self.trials_seen = len(trials)
        st = self.campaign.status()
        best = st.get("best")
        best_text = (
            (", ".join(f"{v:.6g}" for v in best["values"]) if best else "—")
            if "best" in st
            else f"{len(st.get('pareto_front', []))} on the Pareto front"
        )
        self.status.value = (
            f"<b>{html.escape(st['name'])}</b> · policy {html.escape(str(st['policy']))} · "
            f"{st['trials']}/{st['budget']} trials ({st['failed']} failed) · best: {best_text}"
        )
        self.table.value = _table_html(trials[-TABLE_ROWS:])
        if trials and len(self.campaign.objective.targets) == 1:
            from IPython.display import display

            self.plot.clear_output(wait=True)
            with self.plot:
                display(self.campaign.plot_convergence())


def _table_html(trials: list[dict[str, Any]]) -> str:
    if not trials:
        return "<i>no trials yet</i>"
    names = list(trials[0]["params"])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["#", *names, "values", "status"])
    rows = []
    for t in reversed(trials):
        params = "".join(f"<td>{_fmt(t['params'].get(n))}</td>" for n in names)
        values = ", ".join(_fmt(v) for v in t.get("values") or [])
        status = html.escape(
            t["status"] if t["status"] == "complete" else f"failed: {t.get('error', '')}"
        )
        rows.append(f"<tr><td>{t['number']}</td>{params}<td>{values}</td><td>{status}</td></tr>")
    return f"<table class='genesis-trials'><tr>{head}</tr>{''.join(rows)}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))
