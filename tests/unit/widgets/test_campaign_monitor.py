"""CampaignMonitor redraws from the campaign's own store after every trial."""

import math

from genesis_lab.agents import Campaign
from genesis_lab.widgets import CampaignMonitor


def _experiment(p):
    if p["x"] > 0.9:
        raise RuntimeError("instrument jammed")
    return {"y": (p["x"] - 0.3) ** 2}


def test_monitor_follows_the_campaign_live():
    campaign = Campaign(
        {"x": (0.0, 1.0)}, "y", experiment=_experiment, policy="random", budget=12, seed=3
    )
    seen = []
    monitor = CampaignMonitor(campaign)
    assert monitor.trials_seen == 0
    assert "no trials yet" in monitor.table.value
    original = monitor.update

    def spy(record=None):
        original(record)
        seen.append(monitor.trials_seen)

    monitor.update = spy
    monitor.run()
    assert seen == list(range(1, 13))
    st = campaign.status()
    assert f"{st['trials']}/12 trials ({st['failed']} failed)" in monitor.status.value
    best = campaign.best()["values"][0]
    assert f"{best:.6g}" in monitor.status.value
    assert monitor.table.value.count("<tr>") == 13  # header + 12 trials
    failed = [t for t in campaign.trials if t["status"] == "failed"]
    assert all("instrument jammed" in t["error"] for t in failed)
    if failed:
        assert "failed: " in monitor.table.value
    assert math.isfinite(best)
