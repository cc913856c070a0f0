"""MCP over streamable HTTP through a real hub into real sessions, with the mcp package's client.

One hub of its own (its site gives one allocation tight agent limits): alice's session charges
``agents-open``, bob's ``agents-tight`` (every costly call needs approval). Refusals: no token,
a token without the agent scope, a revoked token, another user's token. The gate holds an
over-limit simulator_run until approved; the stop cancels a running campaign and revokes tokens.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fixtures.hub import (
    PROXY,
    RunningHub,
    _shutdown,
    hub_base,
    run_async,
    write_site,
)
from fixtures.net import free_port
from realparts import require

pytestmark = pytest.mark.slow

AGENT_SCOPE = "custom:genesis-agent:use"
SIM = "advanced-manufacturing/rosenthal-melt-pool"
ALLOCATIONS = [
    {"id": "agents-open", "scheduler": "local", "cores": 2, "memory": "4GB", "members": ["*"]},
    {"id": "agents-tight", "scheduler": "local", "cores": 2, "memory": "4GB", "members": ["*"],
     "agents": {"core_hours_per_call": 0, "core_hours_per_day": 100, "batch": False}},
]  # fmt: skip


@pytest.fixture(scope="session")
def agent_hub() -> Iterator[RunningHub]:
    """A hub whose site has an allocation with tight agent limits; alice and bob in sessions."""
    require(PROXY.exists() or shutil.which("configurable-http-proxy") is not None,
            "configurable-http-proxy", "run `make proxy`")  # fmt: skip
    base = hub_base("agent-hub")
    base.mkdir(parents=True)
    base.chmod(0o755)
    (base / "home").mkdir()
    (base / "home").chmod(0o755)
    site = write_site(base / "site.yaml", allocations=ALLOCATIONS)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GENESIS_", "JUPYTERHUB_", "PYTEST_"))}  # fmt: skip
    env.update(GENESIS_HOME=str(base / "home"), GENESIS_SITE_FILE=str(site))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    hub = RunningHub(base=base, site_file=site, port=free_port(), hub_port=free_port(),
                     proxy_api_port=free_port(), env=env)  # fmt: skip
    hub.start()
    try:
        # fresh names: Unix accounts (jupyter-<name>) and their homes outlive a hub
        hub.alice, hub.bob = f"alice{uuid.uuid4().hex[:6]}", f"bob{uuid.uuid4().hex[:6]}"
        for name, allocation in ((hub.alice, "agents-open"), (hub.bob, "agents-tight")):
            hub.new_user(name)
            r = hub.spawn(name, {"allocation": allocation})
            assert r.status_code in (201, 202), r.text
        for name in (hub.alice, hub.bob):
            hub.wait_ready(name)
        yield hub
    finally:
        _shutdown(hub)
        shutil.rmtree(base, ignore_errors=True)


def make_token(hub: RunningHub, user: str, scopes: list[str] | None, note: str) -> dict[str, Any]:
    """A token the user asks for themself (their browser session), as at /hub/token."""
    body: dict[str, Any] = {"note": note, "expires_in": 3600}
    if scopes is not None:
        body["scopes"] = scopes
    r = hub.api("POST", f"/users/{user}/tokens", hub.user_token(user), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def mcp_url(hub: RunningHub, user: str) -> str:
    return f"{hub.url}/user/{user}/genesis/mcp"


async def _session(url: str, token: str | None, script: Any) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await script(session)


def with_session(url: str, token: str | None, script: Any) -> Any:
    return run_async(_session, url, token, script)


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def post_initialize(hub: RunningHub, user: str, token: str | None) -> requests.Response:
    """The first request of an MCP session, as raw HTTP (what a refused client sees)."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "raw", "version": "0"}}}  # fmt: skip
    return requests.post(mcp_url(hub, user), json=body, headers=headers, timeout=30)


def test_tools_and_the_scripted_flow_through_the_hub(agent_hub):
    from genesis_lab.compute.ledger import Ledger, UsageRecord

    token = make_token(agent_hub, agent_hub.alice, [AGENT_SCOPE], "scripted agent")["token"]
    # a charge in the site ledger (the service's file, which alice's session cannot read)
    site_ledger = Ledger(agent_hub.base / "home" / "state" / "service" / "ledger" / "usage.jsonl")
    site_ledger.record(UsageRecord.from_times(
        allocation="agents-open", user=agent_hub.alice, kind="job", ref="mcp-usage-probe",
        cores=3, start=time.time() - 1200, end=time.time(), source="job-lifetime"))  # fmt: skip

    async def script(session):
        tools = sorted(t.name for t in (await session.list_tools()).tools)
        found = structured(await session.call_tool("catalog_search", {"text": "melt pool"}))
        described = structured(await session.call_tool("simulator_describe", {"id": SIM}))
        run = structured(await session.call_tool(
            "simulator_run", {"simulator": SIM, "parameters": {"power": 200.0, "speed": 0.5}}))  # fmt: skip
        usage = await session.call_tool("allocation_usage", {})
        return tools, found, described, run, usage

    tools, found, described, run, usage = with_session(
        mcp_url(agent_hub, agent_hub.alice), token, script
    )
    # the site ledger is the service's: the session reads its balance through the service
    assert not usage.is_error, usage.content
    (row,) = structured(usage)["allocations"]
    assert row["allocation"] == "agents-open"
    assert row["used_by_me_core_hours"] >= 1.0  # 3 cores x 20 min, and what the session ran
    assert {"catalog_search", "simulator_run", "campaign_start", "job_status"} <= set(tools)
    assert SIM in json.dumps(found)
    assert "power" in json.dumps(described)
    # the same run in process, as the SDK does it, gives the same outputs
    import genesis_lab as gl

    reference = gl.get_simulator(SIM).run({"power": 200.0, "speed": 0.5}, seed=0)
    width = float(reference["melt_pool_width"].values)
    assert json.dumps(run).count("melt_pool_width") >= 1
    assert pytest.approx(width, rel=1e-9) in _numbers(run)


def _numbers(obj: Any) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, int | float):
        return [float(obj)]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return []


def test_refused_without_a_proper_token(agent_hub):
    alice, bob = agent_hub.alice, agent_hub.bob
    no_scope = make_token(agent_hub, alice, ["read:users:name!user"], "no agent scope")["token"]
    bobs = make_token(agent_hub, bob, [AGENT_SCOPE], "bob's agent")["token"]
    revoked = make_token(agent_hub, alice, [AGENT_SCOPE], "soon revoked")
    assert post_initialize(agent_hub, alice, revoked["token"]).status_code == 200
    r = agent_hub.api(
        "DELETE", f"/users/{alice}/tokens/{revoked['id']}", agent_hub.user_token(alice)
    )
    assert r.status_code == 204, r.text
    time.sleep(2.1)  # AUTH_TTL_SECONDS: how long the endpoint trusts the hub's last answer
    answers = {
        "no token": post_initialize(agent_hub, agent_hub.alice, None),
        "no agent scope": post_initialize(agent_hub, agent_hub.alice, no_scope),
        "another user's": post_initialize(agent_hub, agent_hub.alice, bobs),
        "revoked": post_initialize(agent_hub, agent_hub.alice, revoked["token"]),
    }
    codes = {k: r.status_code for k, r in answers.items()}
    assert codes == {"no token": 401, "no agent scope": 403, "another user's": 403,
                     "revoked": 403}, {k: r.text for k, r in answers.items()}  # fmt: skip
    assert "agent scope" in answers["no agent scope"].json()["error"]
    assert alice in answers["another user's"].json()["error"]
    # bob's token is good at bob's own endpoint
    assert post_initialize(agent_hub, agent_hub.bob, bobs).status_code == 200


def rest(hub: RunningHub, user: str, method: str, path: str) -> requests.Response:
    """The side panel's REST routes, with the user's own login token."""
    return requests.request(method, f"{hub.url}/user/{user}/genesis/agent/{path}",
                            headers={"Authorization": f"token {hub.user_token(user)}"},
                            timeout=30)  # fmt: skip


def test_an_over_limit_run_waits_for_approval(agent_hub):
    token = make_token(agent_hub, agent_hub.bob, [AGENT_SCOPE], "gated agent")["token"]
    url = mcp_url(agent_hub, agent_hub.bob)
    first = {"simulator": SIM, "parameters": {"power": 150.0, "speed": 0.4}}
    second = {"simulator": SIM, "parameters": {"power": 250.0, "speed": 0.6}}

    async def ask(session):
        return [structured(await session.call_tool("simulator_run", a)) for a in (first, second)]

    held, held2 = with_session(url, token, ask)
    assert held["state"] == "pending-approval" and held["request_id"]
    assert "agents.core_hours_per_call" in held["reason"]
    pending = rest(agent_hub, agent_hub.bob, "GET", "pending").json()
    assert {p["id"] for p in pending} == {held["request_id"], held2["request_id"]}
    assert set(pending[0]) == {"id", "tool", "digest", "core_hours", "batch", "reason", "created"}

    async def status(session, handle):
        return structured(await session.call_tool("job_status", {"handle": handle}))

    # nothing of it ran while it waits
    before = with_session(url, token, lambda s: status(s, held["handle"]))
    assert before["state"] == "pending-approval" and not before.get("result")

    r = rest(agent_hub, agent_hub.bob, "POST", f"pending/{held['request_id']}/approve")
    assert r.json() == {"id": held["request_id"], "decision": "approved"}
    r = rest(agent_hub, agent_hub.bob, "POST", f"pending/{held2['request_id']}/reject")
    assert r.json() == {"id": held2["request_id"], "decision": "rejected"}
    assert rest(agent_hub, agent_hub.bob, "POST", "pending/r-nope/approve").status_code == 404

    async def follow(session):
        deadline = time.monotonic() + 30
        while True:
            a, b = await status(session, held["handle"]), await status(session, held2["handle"])
            if a["state"] not in ("pending-approval", "running") or time.monotonic() > deadline:
                return a, b
            await asyncio.sleep(0.2)

    approved, rejected = with_session(url, token, follow)
    assert approved["state"] == "done", approved
    import genesis_lab as gl

    width = float(gl.get_simulator(SIM).run(first["parameters"], seed=0)["melt_pool_width"].values)
    assert pytest.approx(width, rel=1e-9) in _numbers(approved["result"])
    assert rejected["state"] == "rejected" and not rejected.get("result")
    assert rest(agent_hub, agent_hub.bob, "GET", "pending").json() == []


def test_stop_cancels_running_work_and_revokes_agent_tokens(agent_hub):
    user = agent_hub.alice
    token = make_token(agent_hub, user, [AGENT_SCOPE], "long campaign")["token"]
    url = mcp_url(agent_hub, user)

    async def start(session):
        return structured(await session.call_tool("campaign_start", {
            "simulator": SIM, "objective": {"melt_pool_length": "min"}, "policy": "bayes",
            "budget": 500, "parameters": {"power": [100, 400], "speed": [0.2, 1.0]}}))  # fmt: skip

    async def status(session, handle):
        return structured(await session.call_tool("job_status", {"handle": handle}))

    job = with_session(url, token, start)
    assert job["state"] == "running", job

    async def until_progress(session):
        for _ in range(100):
            now = await status(session, job["handle"])
            if now.get("progress"):
                return now
            await asyncio.sleep(0.2)
        return now

    assert with_session(url, token, until_progress).get("progress"), "the campaign never ran"
    began = time.monotonic()
    r = rest(agent_hub, user, "POST", "stop")
    elapsed = time.monotonic() - began
    assert r.status_code == 200, r.text
    report = r.json()
    assert set(report) == {"tokens_revoked", "work_cancelled", "jobs_cancelled", "seconds"}
    assert report["work_cancelled"] >= 1 and report["tokens_revoked"] >= 1
    assert elapsed < 5 and report["seconds"] < 5
    # the agent's token is refused from now on, and stays refused once agents may run again
    assert post_initialize(agent_hub, user, token).status_code == 403
    enabled = agent_hub.run_code(user, ENABLE)
    assert json.loads(enabled) == {"enabled": True}, enabled
    refused = post_initialize(agent_hub, user, token)
    assert refused.status_code == 403 and "revoked" in refused.json()["error"], refused.text
    # its work is gone: the job is cancelled and its trial count stands still
    fresh = make_token(agent_hub, user, [AGENT_SCOPE], "after the stop")["token"]

    async def twice(session):
        first = await status(session, job["handle"])
        await asyncio.sleep(1.0)
        return first, await status(session, job["handle"])

    first, later = with_session(url, fresh, twice)
    assert first["state"] == later["state"] == "cancelled", later
    assert later.get("progress") == first.get("progress")


ENABLE = (
    "import subprocess\n"
    "print(subprocess.run(['genesis-lab', 'agent', 'enable', '--json'], capture_output=True,"
    " text=True, check=True).stdout)"
)
