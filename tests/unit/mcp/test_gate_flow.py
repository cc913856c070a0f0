"""The human gate through MCP: a held call runs nothing until approved, never after a rejection,
is asked about by elicitation where the client can, and a stop cancels running work."""

from __future__ import annotations

import time

import mcp_types as types
import pytest

from .conftest import connect

MELT = "advanced-manufacturing/rosenthal-melt-pool"
SWEEP = {"simulator": MELT, "space": {"power": [100, 400, 3], "speed": [0.2, 1.0, 2]}}
BOX = {"power": [100, 400], "speed": [0.2, 1.0]}


@pytest.fixture
def held(tmp_path, make_gate):
    """A context whose gate holds every costly call (limits of 0 core-hours)."""
    from genesis_lab.mcp.context import AgentContext

    gate = make_gate(core_hours_per_call=0, core_hours_per_day=0)
    return AgentContext("ada", "local", gate=gate, state_dir=tmp_path / "state")


def _files(ctx) -> list[str]:
    folder = ctx.jobs_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_held_sweep_runs_nothing_until_approved(held) -> None:
    from genesis_lab.mcp.server import build_server

    with connect(build_server(held)) as client:
        first = client.call_tool("sweep_start", SWEEP).structured_content
        assert first["state"] == "pending-approval"
        rid = first["request_id"]
        assert f"genesis-lab agent approve {rid}" in first["message"]
        time.sleep(0.3)
        again = client.call_tool("job_status", {"handle": first["handle"], "wait_seconds": 0.2})
        assert again.structured_content["state"] == "pending-approval"
        assert not any(n.endswith(".nc") for n in _files(held))
        held.gate.approve(rid, by="ada")
        done = client.call_tool("job_status", {"handle": first["handle"], "wait_seconds": 60})
    got = done.structured_content
    assert got["state"] == "done", got
    assert got["result"]["points"] == 3 * 2
    assert f"{first['handle']}.nc" in _files(held)


def test_progress_names_its_total_before_the_work_starts(held) -> None:
    """A job's total is known when it is made: job_status reports it even before the work ran
    (a client reading at once saw ``None``)."""
    from genesis_lab.mcp.tools import Toolbox

    toolbox = Toolbox(held)
    first = toolbox.call("sweep_start", SWEEP)
    seen: list[tuple[float, float | None]] = []
    toolbox.call("job_status", {"handle": first["handle"]}, lambda p, t, m: seen.append((p, t)))
    points = SWEEP["space"]["power"][2] * SWEEP["space"]["speed"][2]
    assert seen == [(0.0, points)]
    assert toolbox.jobs.store.get(first["handle"])["total"] == points


def test_a_rejected_campaign_never_runs(held) -> None:
    from genesis_lab.agents.store import CampaignStore
    from genesis_lab.mcp.server import build_server

    args = {"simulator": MELT, "objective": {"melt_pool_length": "min"}, "budget": 3,
            "policy": "random", "name": "never-runs", "parameters": BOX}  # fmt: skip
    with connect(build_server(held)) as client:
        first = client.call_tool("campaign_start", args).structured_content
        assert first["state"] == "pending-approval"
        held.gate.reject(first["request_id"], by="ada")
        got = client.call_tool("job_status", {"handle": first["handle"]}).structured_content
        status = client.call_tool("campaign_status", {"campaign": "never-runs"}).structured_content
    assert got["state"] == "rejected"
    assert status["state"] == "rejected" and "status" not in status
    assert not CampaignStore("never-runs").exists()


def test_elicitation_asks_the_user_and_runs_on_yes(held) -> None:
    from genesis_lab.mcp.server import build_server
    from genesis_lab.simulators.registry import get_simulator

    asked = []

    async def elicit(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    args = {"simulator": MELT, "parameters": {"power": 300.0}}
    with connect(build_server(held), elicitation_callback=elicit) as client:
        first = client.call_tool("simulator_run", args).structured_content
        done = client.call_tool("job_status", {"handle": first["handle"], "wait_seconds": 30})
    assert len(asked) == 1 and "simulator_run" in asked[0]
    got = done.structured_content
    assert got["state"] == "done"
    want = float(get_simulator(MELT).run({"power": 300.0})["melt_pool_width"])
    assert got["result"]["outputs"]["melt_pool_width"]["value"] == pytest.approx(want)
    assert held.gate.decision(first["request_id"]) == "approved"


def test_a_site_can_leave_approval_to_the_user_alone(tmp_path, make_gate) -> None:
    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.mcp.server import build_server

    gate = make_gate(core_hours_per_call=0, core_hours_per_day=0, elicitation=False)
    ctx = AgentContext("ada", "local", gate=gate, state_dir=tmp_path / "state")
    asked = []

    async def elicit(context, params):  # an agent answering its own client's question
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    with connect(build_server(ctx), elicitation_callback=elicit) as client:
        got = client.call_tool("sweep_start", SWEEP).structured_content
    assert asked == [] and got["state"] == "pending-approval"
    assert gate.decision(got["request_id"]) == "pending"
    assert not any(n.endswith(".nc") for n in _files(ctx))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_elicitation_no_rejects(held, mode) -> None:
    from genesis_lab.mcp.server import build_server

    async def elicit(context, params):
        return types.ElicitResult(action="decline")

    with connect(build_server(held), elicitation_callback=elicit, mode=mode) as client:
        got = client.call_tool("sweep_start", SWEEP).structured_content
    assert got["state"] == "rejected"
    assert held.gate.decision(got["request_id"]) == "rejected"
    assert not any(n.endswith(".nc") for n in _files(held))


def test_a_stop_cancels_a_running_campaign(context) -> None:
    from genesis_lab.mcp.server import build_server

    args = {"simulator": MELT, "objective": {"melt_pool_length": "min"}, "budget": 400,
            "policy": "random", "seed": 1, "parameters": BOX}  # fmt: skip
    with connect(build_server(context)) as client:
        first = client.call_tool("campaign_start", args).structured_content
        assert first["state"] == "running"
        while not context.gate._work:
            time.sleep(0.02)
        t0 = time.monotonic()
        report = context.gate.stop(by="ada")
        refused = client.call_tool("catalog_search", {"text": "melt"})
        context.gate.enable(by="ada")
        got = client.call_tool("job_status", {"handle": first["handle"], "wait_seconds": 5})
        elapsed = time.monotonic() - t0
    # while stopped, no tool answers (a gate-free one neither); the work was cancelled at once
    assert refused.is_error and "were stopped by ada" in refused.content[0].text
    assert report.work_cancelled == 1
    assert got.structured_content["state"] == "cancelled", got.structured_content
    assert elapsed < 5
    assert got.structured_content["progress"] < 400
