"""Every tool call leaves one audit record (200 calls, 200 records, digests checked), and a job a
stopped server was running resumes in the next one."""

from __future__ import annotations

import hashlib
import json

import mcp_types as types

from .conftest import connect

MELT = "advanced-manufacturing/rosenthal-melt-pool"


def _script(n: int) -> list[tuple[str, dict]]:
    kinds = [
        ("catalog_search", lambda i: {"text": ["neutron", "decay", "melt", "zzz"][i % 4], "limit": 1 + i % 5}),
        ("catalog_show", lambda i: {"id": "nuclear-energy/neutron-scattering-lengths"}),
        ("catalog_show", lambda i: {"id": f"nuclear-energy/nothing-{i}"}),
        ("simulator_describe", lambda i: {"id": MELT}),
        ("job_status", lambda i: {"handle": f"sweep-{i}"}),
        ("catalog_search", lambda i: {"limit": "many", "i": i}),
        ("challenge_list", lambda i: {"domain": "nuclear-energy"} if i % 2 else {}),
    ]  # fmt: skip
    return [(kinds[i % len(kinds)][0], kinds[i % len(kinds)][1](i)) for i in range(n)]


def test_200_tool_calls_give_200_audit_records(context) -> None:
    from genesis_lab.access.audit import audit_log, query, verify
    from genesis_lab.mcp.server import build_server

    log = audit_log().path
    script = _script(200)
    info = types.Implementation(name="scripted-agent", version="1.0")
    outcomes = []
    with connect(build_server(context), client_info=info) as client:
        for tool, args in script:
            outcomes.append(client.call_tool(tool, args).is_error)
    records = query(log, event_type="agent.tool")
    assert len(records) == 200
    assert verify(log).ok
    for (tool, args), is_error, rec in zip(script, outcomes, records, strict=True):
        canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert rec["tool"] == tool
        assert rec["arguments_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
        assert rec["outcome"] == ("denied" if is_error else "success")
        assert rec["identity"] == "ada" and rec["client"] == "scripted-agent"
    assert sum(outcomes) > 50 and sum(outcomes) < 150


def test_a_campaign_left_running_by_a_stopped_server_resumes(context) -> None:
    from genesis_lab.agents.campaign import Campaign
    from genesis_lab.mcp import arguments as A
    from genesis_lab.mcp.jobs import JobStore
    from genesis_lab.mcp.server import build_server
    from genesis_lab.mcp.work import _campaign

    args = {"simulator": MELT, "objective": {"melt_pool_length": "min"}, "budget": 5,
            "policy": "random", "seed": 4, "name": "resumed",
            "parameters": {"power": [100, 400], "speed": [0.2, 1.0]}}  # fmt: skip
    a = A.CampaignStart.model_validate(args)
    _campaign(a, "resumed").run(max_rounds=2)
    before = Campaign.open("resumed").trials
    assert len(before) == 2
    job = JobStore(context.jobs_dir()).create(
        "campaign_start", a.model_dump(mode="json"), state="running", campaign="resumed",
        process="a-server-that-stopped",
    )  # fmt: skip
    with connect(build_server(context)) as client:
        got = client.call_tool("job_status", {"handle": job.handle, "wait_seconds": 60})
        status = client.call_tool("campaign_status", {"campaign": "resumed"}).structured_content
    assert got.structured_content["state"] == "done", got.structured_content
    assert got.structured_content["resumed"] == 1
    after = Campaign.open("resumed").trials
    assert len(after) == 5 and after[:2] == before
    assert status["status"]["trials"] == 5
    assert status["status"]["best"]["values"][0] == min(
        t["values"][0] for t in after if t["status"] == "complete" and t["feasible"]
    )
