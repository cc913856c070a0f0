"""The service's agent-call metric labels exactly the MCP server's published tool names."""

from __future__ import annotations


def test_the_metric_knows_every_published_tool_and_no_other():
    from genesis_lab.mcp.tools import TOOL_NAMES
    from genesis_lab.service.metrics import AGENT_TOOLS

    assert set(TOOL_NAMES) == AGENT_TOOLS
