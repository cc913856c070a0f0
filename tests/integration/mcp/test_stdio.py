"""``genesis-lab mcp`` over stdio with the mcp package's own stdio client: the tool list, the
scripted agent's whole flow with progress notifications, a campaign resumed after the server
process was stopped in the middle of it, and the worked example ``notebooks/agents-mcp.ipynb``
run under papermill on a real kernel (so a broken example fails the suite)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MELT = "advanced-manufacturing/rosenthal-melt-pool"
NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "agents-mcp.ipynb"


def server_params(home: Path, **env: str):
    from mcp import StdioServerParameters

    exe = Path(sys.executable).parent / "genesis-lab"
    assert exe.exists() or shutil.which("genesis-lab"), "genesis-lab is not installed"
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GENESIS_", "JUPYTERHUB_", "PYTEST_"))}  # fmt: skip
    base.update(GENESIS_HOME=str(home), **env)
    return StdioServerParameters(command=str(exe if exe.exists() else "genesis-lab"),
                                 args=["mcp"], env=base)  # fmt: skip


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_tool_list_and_schemas_over_stdio(genesis_home) -> None:
    from mcp import Client

    from genesis_lab.mcp.server import tool_definitions

    async def go():
        async with Client(server_params(genesis_home)) as c:
            return (await c.list_tools()).tools

    tools = run(go())
    want = {t.name: t.input_schema for t in tool_definitions()}
    assert {t.name: t.input_schema for t in tools} == want
    assert len(want) == 15


def test_the_scripted_agent_over_stdio_with_progress(genesis_home) -> None:
    import mcp_types as types
    from mcp import Client

    from genesis_lab.access.audit import query
    from genesis_lab.agents.campaign import Campaign
    from genesis_lab.mcp.scripted import CAMPAIGN, run_scripted_agent

    lines: list[str] = []
    campaign = CAMPAIGN | {"budget": 6}

    async def go():
        info = types.Implementation(name="scripted-agent", version="1")
        async with Client(server_params(genesis_home), client_info=info) as c:
            return await run_scripted_agent(c, campaign=campaign, log=lines.append)

    transcript = run(go())
    tools = [t["tool"] for t in transcript if "tool" in t]
    assert tools[:4] == ["catalog_search", "dataset_describe", "simulator_run", "campaign_start"]
    assert tools[-1] == "campaign_status"
    progress = next(t["progress"] for t in transcript if "progress" in t)
    done = [p for p, _, _ in progress]
    assert done == sorted(done) and done[-1] == 6 and len(done) >= 2
    assert all(total == 6 for _, total, _ in progress), progress
    final = transcript[-1]["result"]["status"]
    name = transcript[3]["result"]["campaign"]
    trials = Campaign.open(name).trials
    feasible = [t for t in trials if t["status"] == "complete" and t["feasible"]]
    assert final["trials"] == len(trials) == 6
    assert final["best"]["values"][0] == min(t["values"][0] for t in feasible)
    records = query(event_type="agent.tool")
    assert [r["tool"] for r in records] == tools
    assert {r["client"] for r in records} == {"scripted-agent"}


def test_a_campaign_resumes_after_the_server_restarts(genesis_home) -> None:
    from mcp import Client

    from genesis_lab.agents.campaign import Campaign

    args = {"simulator": MELT, "objective": {"melt_pool_length": "min"}, "budget": 60,
            "policy": "random", "seed": 2, "name": "across-restarts",
            "parameters": {"power": [100, 400], "speed": [0.2, 1.0]}}  # fmt: skip

    async def first() -> tuple[str, int]:
        async with Client(server_params(genesis_home)) as c:
            started = (await c.call_tool("campaign_start", args)).structured_content
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                st = await c.call_tool("job_status", {"handle": started["handle"]})
                if st.structured_content.get("progress", 0) >= 5:
                    break
                await asyncio.sleep(0.05)
            return started["handle"], int(st.structured_content["progress"])
        # leaving the block closes stdin: the server process exits mid-campaign

    handle, seen = run(first())
    time.sleep(0.5)
    before = Campaign.open("across-restarts").trials
    assert 5 <= seen <= len(before) < 60, (seen, len(before))

    async def second() -> dict[str, Any]:
        async with Client(server_params(genesis_home)) as c:
            for _ in range(10):
                st = await c.call_tool("job_status", {"handle": handle, "wait_seconds": 60})
                if st.structured_content["state"] != "running":
                    break
            return (await c.call_tool("campaign_status", {"campaign": "across-restarts"})
                    ).structured_content  # fmt: skip

    status = run(second())
    assert status["state"] == "done" and status["resumed"] == 1, status
    after = Campaign.open("across-restarts").trials
    assert len(after) == 60 and after[: len(before)] == before
    assert status["status"]["trials"] == 60


def test_the_agents_notebook_runs_and_its_answers_match_the_store(
    tmp_path, genesis_home, monkeypatch
) -> None:
    import papermill

    from genesis_lab.access.audit import query
    from genesis_lab.agents.campaign import Campaign

    budget = 4
    # a kernel under pytest leaves its stderr without a file descriptor (ipykernel skips its fd
    # capture when it sees this variable), which the mcp stdio client hands its server; a
    # session's kernel has one
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    out = tmp_path / NOTEBOOK.name
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"budget": budget, "seed": 1},
        kernel_name="python3", cwd=str(tmp_path), progress_bar=False,
    )  # fmt: skip
    cells = json.loads(out.read_text())["cells"]
    printed = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    assert "15 tools:" in printed
    handle = re.search(r"campaign handle (\S+) ", printed).group(1)
    best_mm = float(re.search(rf"best of {budget} trials: .* length ([\d.]+) mm", printed).group(1))
    trials = Campaign.open(handle).trials  # the store the server wrote, read here
    feasible = [t["values"][0] for t in trials if t["status"] == "complete" and t["feasible"]]
    assert len(trials) == budget
    assert best_mm == pytest.approx(min(feasible) * 1e3, abs=5e-4)
    tools = [r["tool"] for r in query(event_type="agent.tool")]  # this test's own audit log
    assert tools[:4] == ["catalog_search", "dataset_describe", "simulator_run", "campaign_start"]
    assert tools[-1] == "campaign_status"
