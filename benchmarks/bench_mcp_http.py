"""Claims: MCP over streamable HTTP through the hub (proxy, the session's token check, the MCP
server, the agent audit) adds at most 30 ms (median) to a ``catalog_search`` over the same tool
called in process; 50 concurrent agent clients (10 per user, 5 users, each in its own session)
calling ``simulator_run`` on loopback get 0 errors (p99 reported), and the genesis service's
data read ratio (through the service / direct from disk, as in bench_service.py) stays within
20 % of its idle value while they run.

Starts a real JupyterHub with the service (the integration tests' launcher) on random ports.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _report import claim, context, interleaved, median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "service"))

AGENT_SCOPE = "custom:genesis-agent:use"
SIM = "advanced-manufacturing/rosenthal-melt-pool"
READ_ID = "semiconductors/wafer-survey-bench-mcp"
USERS, CLIENTS_PER_USER = 5, 10
PAIRS = 60

CLAIMS = (
    "catalog_search over MCP through the hub - in process (median added ms)",
    "50 concurrent MCP clients calling simulator_run: errors",
    "service data read ratio under 50 MCP clients / idle",
)


def _write_store(hub) -> Path:
    import numpy as np
    import xarray as xr
    import yaml

    store = hub.data_root / "site" / "wafer-survey-bench-mcp.zarr"
    data = np.random.default_rng(0).normal(100, 1, (2500, 2000))  # 40 MB of float64
    xr.Dataset({"thickness": (("x", "y"), data)}).to_zarr(
        store, mode="w", consolidated=True, zarr_format=2,
        encoding={"thickness": {"chunks": (1250, 1000), "compressors": None}},
    )  # fmt: skip
    entry = {
        "id": READ_ID, "kind": "dataset", "domain": "semiconductors", "title": "Wafer survey",
        "description": "Benchmark dataset.", "keyword": ["wafer"], "modified": "2026-01-01",
        "publisher": {"name": "bench"},
        "contactPoint": {"fn": "bench", "hasEmail": "bench@example.org"},
        "license": "CC0-1.0",
        "distribution": [{"downloadURL": f"site/{store.name}", "format": "zarr"}],
        "provenance": {"source": "synthetic", "agency": "bench", "citation": "b", "version": "1"},
        "marking": "controlled",
    }  # fmt: skip
    (hub.catalog_dir / "bench-mcp.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    return store


def _agent_token(svc, user: str) -> str:
    r = svc.hub_api("POST", f"/users/{user}/tokens",
                    json={"note": "bench agent", "scopes": [AGENT_SCOPE], "expires_in": 3600})  # fmt: skip
    r.raise_for_status()
    return r.json()["token"]


class _Client:
    """One MCP client session (the mcp package's own) kept open by a task in a loop of its own
    thread (anyio's scopes must be left by the task that entered them)."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.session: Any = None
        self._ready = threading.Event()
        self._main = asyncio.run_coroutine_threadsafe(self._hold(), self.loop)
        if not self._ready.wait(600):
            raise TimeoutError("the MCP session did not open")
        if self._main.done():
            self._main.result()

    async def _hold(self) -> None:
        from mcp import ClientSession
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        self._closing = asyncio.Event()
        try:
            async with (
                create_mcp_http_client(headers={"Authorization": f"Bearer {self.token}"}) as http,
                streamable_http_client(self.url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                self.session = session
                self._ready.set()
                await self._closing.wait()
        finally:
            self._ready.set()

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(
            self.session.call_tool(tool, arguments), self.loop
        )
        result = future.result(600)
        assert not result.is_error, result.content
        return result

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self._closing.set)
        self._main.result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def _agents(urls_tokens: list[tuple[str, str]], stop: threading.Event) -> tuple[list, int]:
    """Each (url, token) is one client: initialize, then simulator_run until ``stop``."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    latencies: list[float] = []
    errors = [0]

    async def one(i: int, url: str, token: str) -> None:
        try:
            async with (
                create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
                streamable_http_client(url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                k = 0
                while not stop.is_set() or k < 2:
                    params = {"power": 100.0 + (i * 7 + k) % 300, "speed": 0.5}
                    t0 = time.perf_counter()
                    result = await session.call_tool(
                        "simulator_run", {"simulator": SIM, "parameters": params}
                    )
                    latencies.append(time.perf_counter() - t0)
                    if result.is_error:
                        errors[0] += 1
                    k += 1
        except Exception as exc:
            print(f"client {i} failed: {_leaves(exc)}", file=sys.stderr)
            errors[0] += 1

    await asyncio.gather(*(one(i, u, t) for i, (u, t) in enumerate(urls_tokens)))
    return latencies, errors[0]


def _leaves(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_leaves(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def _read_ratio(store: Path, pairs: int) -> float:
    import xarray as xr

    import genesis_lab as gl

    def direct() -> None:
        xr.open_zarr(store, chunks={})["thickness"].data.sum().compute(num_workers=4)

    def through_service() -> None:
        gl.open_dataset(READ_ID)["thickness"].data.sum().compute(num_workers=4)

    through_service()
    t_service, t_direct = interleaved(through_service, direct, pairs=pairs)
    return median([d / s for d, s in zip(t_direct, t_service, strict=True)])


def main() -> None:
    from svc_hub import start_service_hub

    from genesis_lab.settings import reset_settings

    base = Path(tempfile.mkdtemp(prefix="bench-mcp-http-"))
    svc = start_service_hub(base)
    hub = svc.hub
    try:
        store = _write_store(svc)
        users = [f"agent{uuid.uuid4().hex[:6]}" for _ in range(USERS)]
        for user in users:
            hub.new_user(user)
            r = hub.spawn(user)
            assert r.status_code in (201, 202), r.text
        for user in users:
            hub.wait_ready(user)
        tokens = {u: [_agent_token(svc, u) for _ in range(CLIENTS_PER_USER)] for u in users}
        url = {u: f"{hub.url}/user/{u}/genesis/mcp" for u in users}

        # 1. catalog_search over MCP through the hub vs the same tool in process
        from genesis_lab.mcp.context import AgentContext
        from genesis_lab.mcp.gate import Gate
        from genesis_lab.mcp.tools import Toolbox

        user = users[0]
        # the session's own view: its user's token, the service at the address sessions get
        os.environ.update(GENESIS_SERVICE_URL=svc.direct_url, JUPYTERHUB_API_TOKEN=svc.token(user))
        reset_settings()
        args = {"text": "wafer thickness"}
        gate = Gate.for_session()
        toolbox = Toolbox(AgentContext(user, gate=gate, state_dir=base / "state"))
        client = _Client(url[user], tokens[user][0])
        try:
            over_mcp = json.loads(client.call("catalog_search", args).content[0].text)
            in_process = toolbox.call("catalog_search", args, None)
            for _ in range(3):  # warm both: imports, connections, the catalog's cache
                client.call("catalog_search", args)
                toolbox.call("catalog_search", args, None)
            t_mcp, t_local = interleaved(
                lambda: client.call("catalog_search", args),
                lambda: toolbox.call("catalog_search", args, None),
                pairs=PAIRS,
            )
        finally:
            client.close()
        added = (median(t_mcp) - median(t_local)) * 1000
        from genesis_lab.mcp.audit import AgentAudit

        audit = AgentAudit(AgentContext(user, gate=gate, token_note="bench"))
        t_audit, _ = interleaved(
            lambda: audit.record(tool="catalog_search", arguments=args, outcome="success",
                                 client="bench"),
            lambda: None,
            pairs=15,
        )  # fmt: skip
        context(
            "of which the agent audit record (POST api/audit/agent), in process",
            median(t_audit) * 1000,
            unit=" ms",
            details="kept-alive connection; the service reuses the hub's answer for the token "
            "(token_cache_seconds) and appends to the hash-chained log (group commit, fdatasync)",
        )
        claim(
            "catalog_search over MCP through the hub - in process (median added ms)",
            added,
            30,
            unit=" ms",
            details=f"median over MCP {median(t_mcp) * 1000:.1f} ms, in process "
            f"{median(t_local) * 1000:.1f} ms, {PAIRS} interleaved pairs on one open MCP session; "
            "proxy + hub token check (cached 2 s) + MCP + agent audit record",
        )
        context(
            "catalog_search hits (over MCP / in process)",
            len(json.dumps(over_mcp)) / max(len(json.dumps(in_process)), 1),
            details="answer sizes, same tool",
        )

        # 2. the service's read ratio, idle, then while 50 agents run simulators
        os.environ["JUPYTERHUB_API_TOKEN"] = svc.token("c-controlled")
        reset_settings()
        deadline = time.monotonic() + 30
        while svc.get(f"api/data/{READ_ID}", "c-controlled").status_code != 200:
            assert time.monotonic() < deadline, "the service never listed the benchmark dataset"
            time.sleep(0.2)
        idle = _read_ratio(store, pairs=5)
        stop = threading.Event()
        box: dict[str, Any] = {}
        pairs = [(url[u], t) for u in users for t in tokens[u]]
        runner = threading.Thread(
            target=lambda: box.update(out=asyncio.run(_agents(pairs, stop))), daemon=True
        )
        t0 = time.perf_counter()
        runner.start()
        time.sleep(5)  # every client has initialized and is calling
        loaded = _read_ratio(store, pairs=5)
        stop.set()
        runner.join(600)
        wall = time.perf_counter() - t0
        latencies, errors = box.get("out", ([], len(pairs)))
        latencies.sort()
        n = len(latencies)
        p50 = latencies[n // 2] if n else float("nan")
        p99 = latencies[max(int(n * 0.99) - 1, 0)] if n else float("nan")
        claim(
            "50 concurrent MCP clients calling simulator_run: errors",
            errors,
            0,
            unit="",
            details=f"{n} calls in {wall:.1f} s by {len(pairs)} clients ({USERS} users x "
            f"{CLIENTS_PER_USER}, each its own MCP session and token); p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000 if n else float('nan'):.0f} ms",
        )
        claim(
            "service data read ratio under 50 MCP clients / idle",
            loaded / idle,
            0.8,
            op=">=",
            details=f"through the service / direct from disk: idle {idle:.2f}x, while the "
            f"clients run {loaded:.2f}x (40 MB zarr, 5 interleaved pairs each)",
        )
        if errors:
            problems = [ln for ln in hub.log().splitlines() if " E " in ln or "Error" in ln]
            print("\n".join(problems[-40:]), file=sys.stderr)
    finally:
        for var in ("GENESIS_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):
            os.environ.pop(var, None)
        svc.stop()


if __name__ == "__main__":
    main()
