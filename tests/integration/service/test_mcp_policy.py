"""The policy matrix through MCP, against the real genesis service and real hub users: an
uncleared, a controlled-cleared and a fully-cleared user's agent x one entry per marking x
catalog_search, catalog_show and dataset_describe (the MCP server built for each user's SDK
settings, over the mcp package's in-memory transport). Every call is audited by the service in
the caller's name."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import requests
from svc_hub import DATASETS, MARKINGS

from genesis_lab.access.audit import AuditLog

pytestmark = pytest.mark.hub

FULL = "mcp-cleared"
USERS = {"vetted": (), "c-controlled": ("controlled",),
         FULL: ("controlled", "proprietary", "export-controlled")}  # fmt: skip
UNKNOWN = "semiconductors/wafer-never-existed"


POLICY_TOOLS = {"catalog_search", "catalog_show", "dataset_describe"}


def expected(user: str, marking: str) -> tuple[bool, bool]:
    """(visible, may_read), written out from the issue's rules, not from the policy code."""
    if marking == "public" or marking in USERS[user]:
        return True, True
    return marking == "controlled", False


@pytest.fixture(scope="module")
def full_user(service_hub) -> str:
    if service_hub.hub_api("GET", f"/users/{FULL}").status_code == 404:
        page = service_hub.hub.signup(FULL)
        assert "sent to the admin" in page.text
        service_hub.hub.approve(FULL)
    service_hub.set_groups(FULL, ["vetted", "clearance-controlled", "clearance-proprietary",
                                  "clearance-export-controlled"])  # fmt: skip
    return FULL


@contextlib.contextmanager
def agent_of(service_hub, user: str, monkeypatch, tmp_path):
    """An MCP client to a server built with ``user``'s session settings (token, service URL)."""
    from mcp import Client

    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.mcp.server import build_server
    from genesis_lab.settings import reset_settings

    monkeypatch.setenv("GENESIS_SERVICE_URL", service_hub.direct_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", service_hub.token(user))
    monkeypatch.setenv("JUPYTERHUB_USER", user)
    reset_settings()
    from anyio.from_thread import start_blocking_portal

    from genesis_lab.compute.allocations import AgentLimits
    from genesis_lab.mcp.gate import Gate

    gate = Gate(AgentLimits(), tmp_path / user / "agents", allocation="local")
    ctx = AgentContext.from_settings(gate=gate, state_dir=tmp_path / user)
    with contextlib.ExitStack() as stack:
        stack.callback(gate.close)
        portal = stack.enter_context(start_blocking_portal())
        client = stack.enter_context(portal.wrap_async_context_manager(Client(build_server(ctx))))
        yield _Sync(portal, client)
    reset_settings()


class _Sync:
    """The async client, called from this synchronous test through the portal."""

    def __init__(self, portal, client) -> None:
        self.portal, self.client = portal, client

    def call_tool(self, name: str, arguments: dict):
        return self.portal.call(lambda: self.client.call_tool(name, arguments))


def _truth(service_hub, marking: str) -> np.ndarray:
    import xarray as xr

    name = DATASETS[marking].split("/")[1]
    with xr.open_zarr(service_hub.data_root / "site" / f"{name}.zarr") as ds:
        return np.asarray(ds["thickness"].values, dtype=float)


def _as_unknown(text: str, entry_id: str) -> str:
    return text.replace(entry_id, "<id>")


@pytest.mark.parametrize("user", sorted(USERS))
def test_policy_matrix_through_mcp(service_hub, full_user, user, monkeypatch, tmp_path) -> None:
    before = sum(1 for r in AuditLog(service_hub.audit_path).records()
                 if r.get("event_type") == "agent.tool" and r.get("identity") == user
                 and r.get("tool") in POLICY_TOOLS)  # fmt: skip
    calls = 0
    with agent_of(service_hub, user, monkeypatch, tmp_path) as agent:
        found = agent.call_tool("catalog_search", {"text": "wafer", "limit": 500})
        calls += 1
        listed = {e["id"] for e in found.structured_content["entries"]}
        everything = agent.call_tool("catalog_search", {"limit": 500}).structured_content
        calls += 1
        seen = {e["id"] for e in everything["entries"]}
        assert everything["total"] == len(seen)
        refused = []
        for i, marking in enumerate(MARKINGS):
            entry_id = DATASETS[marking]
            visible, may_read = expected(user, marking)
            assert (entry_id in listed) == visible, (user, marking)
            hits = agent.call_tool("catalog_search", {"text": f"zebraword{i}"}).structured_content
            calls += 1
            assert (entry_id in {e["id"] for e in hits["entries"]}) == visible
            shown = agent.call_tool("catalog_show", {"id": entry_id})
            described = agent.call_tool("dataset_describe", {"id": entry_id})
            calls += 2
            if visible:
                assert not shown.is_error and shown.structured_content["marking"] == marking
            if may_read:
                truth = _truth(service_hub, marking)
                stats = described.structured_content["variables"]["thickness"]["stats"]
                assert stats["mean"] == pytest.approx(truth.mean())
                assert stats["count"] == truth.size
            elif visible:
                assert described.is_error
                text = described.content[0].text
                assert "access refused" in text and ("clearance" in text or "controlled" in text)
                refused.append((marking, described))
            else:
                unknown = {
                    "show": agent.call_tool("catalog_show", {"id": UNKNOWN}),
                    "describe": agent.call_tool("dataset_describe", {"id": UNKNOWN}),
                }
                calls += 2
                assert shown.is_error and described.is_error
                # the answer for an id that does not exist: the same words; the closest ids
                # it offers are ones this user may see
                for key, answer in (("show", shown), ("describe", described)):
                    text = answer.content[0].text
                    assert (
                        _as_unknown(text, entry_id).split(" Closest")[0]
                        == _as_unknown(unknown[key].content[0].text, UNKNOWN).split(" Closest")[0]
                    )
                    offered = text.split("Closest ids: ")[-1].split(". Fix")[0].split(", ")
                    assert "Closest ids: " not in text or set(offered) <= seen
                refused += [(marking, shown), (marking, described)]
        for marking, answer in refused:
            body = json.dumps(answer.structured_content) + answer.content[0].text
            i = MARKINGS.index(marking)
            assert f"zebraword{i}" not in body and f"kw-{marking}" not in body, (user, marking)
            assert "thickness" not in body or marking == "controlled"
            assert "values" not in (answer.structured_content or {})
    records = [
        r for r in AuditLog(service_hub.audit_path).records() if r.get("event_type") == "agent.tool"
    ]
    # only this test's tools: the schemathesis fuzz may post agent records in the same name
    mine = [r for r in records if r["identity"] == user and r.get("tool") in POLICY_TOOLS]
    assert len(mine) - before == calls
    assert all(r["token_note"] == "" and r["client"] for r in mine)


def test_the_agent_audit_endpoint_names_the_caller_never_the_body(service_hub) -> None:
    url = service_hub.direct_url + "api/audit/agent"
    headers = {"Authorization": f"token {service_hub.token('vetted')}"}
    body = {"tool": "catalog_search", "arguments_sha256": "0" * 64, "outcome": "success",
            "client": "forger", "token_note": "", "reason": ""}  # fmt: skip
    forged = requests.post(url, json=body | {"identity": "admin"}, headers=headers, timeout=30)
    assert forged.status_code == 400 and "identity" in forged.json()["message"]
    ok = requests.post(url, json=body, headers=headers, timeout=30)
    assert ok.status_code == 201
    last = [r for r in AuditLog(service_hub.audit_path).records() if r.get("client") == "forger"][
        -1
    ]
    assert last["identity"] == "vetted" and last["event_type"] == "agent.tool"
    assert requests.post(url, json=body, timeout=30).status_code == 401
