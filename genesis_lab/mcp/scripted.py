"""A scripted agent (no language model): the worked example of the MCP endpoint.

It searches the catalog, describes a dataset, runs a simulator, starts a Bayesian campaign on it,
follows the campaign's progress and reads the best result, all through MCP tool calls. The
notebook ``notebooks/agents-mcp.ipynb``, the stdio test and the benchmark use it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["CAMPAIGN", "run_scripted_agent"]

SIMULATOR = "advanced-manufacturing/rosenthal-melt-pool"
CAMPAIGN: dict[str, Any] = {
    "simulator": SIMULATOR,
    "objective": {"melt_pool_length": "min"},
    "parameters": {"power": [100, 400], "speed": [0.2, 1.0]},
    "constraints": {"melt_pool_width": {"op": ">=", "bound": 100e-6}},
    "policy": "bayes",
    "budget": 10,
    "seed": 0,
}
"""The shortest melt pool that still fuses a 100 µm track (as in the README's tour)."""


async def run_scripted_agent(
    session: Any, *, campaign: dict[str, Any] | None = None, log: Any = print
) -> list[dict[str, Any]]:
    """Drive ``session`` (an ``mcp.Client`` or ``ClientSession``) through the whole flow.

    Returns the transcript: one ``{"tool", "arguments", "result"}`` per call (and the progress
    seen while waiting for the campaign).

    >>> import asyncio  # doctest: +SKIP
    >>> from mcp import Client  # doctest: +SKIP
    >>> async with Client(server) as c: transcript = await run_scripted_agent(c)  # doctest: +SKIP
    """
    transcript: list[dict[str, Any]] = []

    async def call(tool: str, arguments: dict[str, Any], **kw: Any) -> dict[str, Any]:
        result = await session.call_tool(tool, arguments, **kw)
        body = result.structured_content or json.loads(result.content[0].text or "{}")
        if result.is_error:
            raise RuntimeError(f"{tool} refused: {result.content[0].text}")
        transcript.append({"tool": tool, "arguments": arguments, "result": body})
        log(f"> {tool} {json.dumps(arguments)}")
        return body

    found = await call("catalog_search", {"text": "neutron scattering", "kind": "dataset"})
    dataset = found["entries"][0]["id"]
    log(f"  {found['total']} datasets; describing {dataset}")
    described = await call("dataset_describe", {"id": dataset, "variables": ["b_c"]})
    stats = described["variables"]["b_c"]["stats"]
    log(f"  b_c [{described['variables']['b_c']['units']}]: mean {stats['mean']:.3g}")
    ran = await call("simulator_run", {"simulator": SIMULATOR, "parameters": {"power": 200}})
    width = ran["outputs"]["melt_pool_width"]
    log(f"  melt_pool_width at 200 W: {width['value']:.3g} {width['unit']}")
    started = await call("campaign_start", campaign or CAMPAIGN)
    log(f"  campaign handle {started['handle']} ({started['state']})")
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    while True:
        status = await call("job_status", {"handle": started["handle"], "wait_seconds": 60},
                            progress_callback=on_progress)  # fmt: skip
        if status["state"] != "running":
            break
    transcript.append({"progress": progress})
    log(f"  progress seen: {[m for _, _, m in progress]}")
    final = await call("campaign_status", {"campaign": started["handle"]})
    best = final["status"]["best"]
    log(f"  best: {best['params']} -> melt_pool_length {best['values'][0]:.3g} m")
    return transcript
