"""Claim: ``catalog_search`` through the MCP endpoint over stdio (``genesis-lab mcp``, the mcp
package's own client) adds at most 5 ms (median) over the same SDK call in process.

The MCP side includes everything an agent pays: JSON-RPC over the pipe, argument validation and
the call's audit record (appended and fsync'ed to the local audit log outside a hub).
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _report import claim, context, median

CLAIMS = ("MCP stdio catalog_search added time",)
PAIRS = 200
QUERY = {"text": "neutron"}


async def _measure(home: str) -> tuple[list[float], list[float]]:
    from mcp import Client, StdioServerParameters

    import genesis_lab as gl

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    env["GENESIS_HOME"] = home
    exe = Path(sys.executable).parent / "genesis-lab"
    params = StdioServerParameters(command=str(exe), args=["mcp"], env=env)
    mcp_t, sdk_t = [], []
    async with Client(params) as client:
        for _ in range(10):  # warm both sides: catalog loaded, code paths imported
            await client.call_tool("catalog_search", QUERY)
            gl.search(**QUERY)
        for i in range(PAIRS):
            order = ("mcp", "sdk") if i % 2 == 0 else ("sdk", "mcp")
            for side in order:
                t0 = time.perf_counter()
                if side == "mcp":
                    result = await client.call_tool("catalog_search", QUERY)
                    assert not result.is_error, result.content[0].text
                    mcp_t.append(time.perf_counter() - t0)
                else:
                    gl.search(**QUERY)
                    sdk_t.append(time.perf_counter() - t0)
    return mcp_t, sdk_t


def _audit_append() -> list[float]:
    """The agent audit record the server writes per call, timed alone (same log, same disk)."""
    from genesis_lab.mcp.audit import AgentAudit
    from genesis_lab.mcp.context import AgentContext

    audit = AgentAudit(AgentContext.from_settings(gate=object()))
    out = []
    for _ in range(PAIRS):
        t0 = time.perf_counter()
        audit.record(tool="catalog_search", arguments=QUERY, outcome="success", client="bench")
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gl-bench-mcp-") as home:
        os.environ["GENESIS_HOME"] = home
        for var in ("GENESIS_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "GENESIS_SITE_FILE"):
            os.environ.pop(var, None)
        from genesis_lab.settings import reset_settings

        reset_settings()
        mcp_t, sdk_t = asyncio.run(_measure(home))
        audit_t = _audit_append()
    added_ms = (median(mcp_t) - median(sdk_t)) * 1000
    context("SDK catalog_search in process", median(sdk_t) * 1000, unit=" ms")
    context(
        "of which the call's audit record (local log, fdatasync), in process",
        median(audit_t) * 1000,
        unit=" ms",
    )
    context("MCP catalog_search p95", sorted(mcp_t)[int(0.95 * len(mcp_t))] * 1000, unit=" ms")
    claim(
        "MCP stdio catalog_search added time",
        added_ms,
        5,
        unit=" ms",
        details=f"median {median(mcp_t) * 1000:.2f} ms over stdio vs {median(sdk_t) * 1000:.2f} "
        f"ms in process, {PAIRS} interleaved pairs",
    )


if __name__ == "__main__":
    main()
