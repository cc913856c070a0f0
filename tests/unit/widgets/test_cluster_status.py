"""ClusterStatus shows what genesis_lab.compute reports, and proxies the dashboard in a hub."""

import pytest

from genesis_lab.settings import reset_settings
from genesis_lab.widgets import ClusterStatus
from genesis_lab.widgets.cluster_status import dashboard_url


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(
        "allocations:\n"
        "  - {id: training, account: edu01, scheduler: local, budget_core_hours: 10,"
        " members: ['*']}\n"
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    monkeypatch.setenv("GENESIS_ALLOCATION", "training")
    reset_settings()


def test_without_cluster_shows_allocation_and_budget(site):
    st = ClusterStatus().status()
    assert st["allocation"] == "training"
    assert st["budget_left_core_hours"] == pytest.approx(10.0)
    widget = ClusterStatus()
    assert "training" in widget.info.value
    assert "10.00 of 10 core-hours left" in widget.info.value


def test_dashboard_is_proxied_under_the_users_server(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    reset_settings()
    assert dashboard_url("http://127.0.0.1:41234/status") == "/user/alice/proxy/41234/status"
    assert dashboard_url(None) is None


def test_with_a_local_cluster_counts_workers():
    from genesis_lab.compute import cluster

    with cluster(n_workers=1, processes=False) as c:
        widget = ClusterStatus(c)
        st = widget.refresh()
        assert st["workers"] == 1
        assert st["dashboard_url"]
        assert "genesis-dashboard-link" in widget.info.value
