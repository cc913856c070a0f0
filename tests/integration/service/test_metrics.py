"""Prometheus metrics of the hub (``/hub/metrics``) and the service (``…/metrics``), scraped and
parsed with prometheus-client's own parser, as an operator's Prometheus would."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str, token: str) -> dict[tuple[str, tuple], float]:
    r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def test_hub_metrics_count_refusals_by_allocation_and_reason(service_hub):
    hub = service_hub.hub
    url, admin = f"{hub.url}/hub/metrics", hub.ensure_admin_token()
    key = ("genesis_spawn_refusals_total", (("allocation", "restricted"), ("reason", "not-member")))
    before = scrape(url, admin).get(key, 0.0)
    r = service_hub.hub_api("POST", "/users/vetted/server", json={"allocation": "restricted"})
    assert r.status_code == 403
    after = scrape(url, admin)
    assert after[key] == before + 1
    assert any(name == "genesis_spawns_total" for name, _ in after)


def test_service_metrics_count_requests_by_kind_and_status_for_admins_only(service_hub):
    url = f"{service_hub.service_url}metrics"
    admin = service_hub.hub.ensure_admin_token()
    ok = ("genesis_service_requests_total", (("kind", "catalog.get"), ("status", "200")))
    missing = ("genesis_service_requests_total", (("kind", "catalog.get"), ("status", "404")))
    before = scrape(url, admin)
    assert service_hub.get("api/catalog/semiconductors/wafer-public", "vetted").status_code == 200
    for _ in range(2):
        r = service_hub.get("api/catalog/semiconductors/no-such-wafer", "vetted")
        assert r.status_code == 404
    after = scrape(url, admin)
    assert after[ok] == before.get(ok, 0) + 1
    assert after[missing] == before.get(missing, 0) + 2
    count = ("genesis_service_request_seconds_count", (("kind", "catalog.get"),))
    assert after[count] >= before.get(count, 0) + 3
    assert after[("genesis_audit_records_total", (("outcome", "not-found"),))] >= 2
    r = service_hub.get("metrics", "vetted")
    assert r.status_code == 403 and "read:metrics" in r.json()["message"]


def test_agent_calls_counted_by_tool_and_outcome_with_unknown_tools_folded(service_hub):
    url = f"{service_hub.service_url}metrics"
    admin = service_hub.hub.ensure_admin_token()
    digest = "0" * 64
    calls = [("catalog_search", "success")] * 2 + [("simulator_run", "denied"),
                                                   ("made-up-tool-x", "success")]  # fmt: skip
    before = scrape(url, admin)
    for tool, outcome in calls:
        r = requests.post(f"{service_hub.service_url}api/audit/agent", timeout=30,
                          headers={"Authorization": f"token {service_hub.token('vetted')}"},
                          json={"tool": tool, "arguments_sha256": digest, "outcome": outcome})  # fmt: skip
        assert r.status_code == 201, r.text
    after = scrape(url, admin)

    def grew(tool: str, outcome: str) -> float:
        key = ("genesis_agent_calls_total", (("outcome", outcome), ("tool", tool)))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("catalog_search", "success") == 2
    assert grew("simulator_run", "denied") == 1
    assert grew("other", "success") == 1  # a name no tool has gets no label of its own
    assert not any("made-up-tool-x" in str(labels) for _, labels in after)
