"""A session's Jupyter server exits promptly on SIGTERM, or on SIGINT without a terminal (what
JupyterHub's local spawners send first), after its MCP endpoint was used.

A real ``jupyter server`` with the genesis extension; the hub's token check is answered by a
small stand-in for the hub's ``/user`` and token routes (the token's owner, with the agent scope),
so no hub is started. The mcp package's client makes a tool call, which runs in anyio worker
threads of the session manager; then the signal must end the process within seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fixtures.hub import run_async
from fixtures.net import free_port, send_json

from genesis_lab.access.hubapi import AGENT_SCOPE

pytestmark = pytest.mark.slow

USER = "ada"
AGENT_TOKEN = "agent-" + secrets.token_hex(8)
EXIT_SECONDS = 8.0
LAUNCH = (  # as a spawned session starts: SIGINT as Python sets it, whatever pytest inherited
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from jupyter_server.serverapp import main; sys.exit(main())"
)


@pytest.fixture
def hub_api() -> Iterator[str]:
    """The hub's REST API as the endpoint asks it: who owns a token, and the token's note."""

    class Hub(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = self.headers.get("Authorization", "").partition(" ")[2]
            if self.path == "/hub/api/user" and token == AGENT_TOKEN:
                code, body = 200, {"kind": "user", "name": USER, "scopes": [AGENT_SCOPE],
                                   "token_id": "a1", "session_id": None}  # fmt: skip
            elif self.path == f"/hub/api/users/{USER}/tokens/a1":
                code, body = 200, {"id": "a1", "note": "shutdown test"}
            else:
                code, body = 403, {"message": "no"}
            send_json(self, code, body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hub/api"
    server.shutdown()


def start_server(base: Path, hub_api: str) -> tuple[subprocess.Popen, str]:
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    env.update(
        GENESIS_HOME=str(home),
        GENESIS_USER=USER,
        JUPYTERHUB_API_URL=hub_api,
        JUPYTERHUB_API_TOKEN="server-token",
        PYTHONUNBUFFERED="1",
    )
    cmd = [
        sys.executable, "-c", LAUNCH, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(base / "server.log", "wb")  # noqa: SIM115 (the process writes to it until it ends)
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=root
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {(base / 'server.log').read_text()[-2000:]}")
        try:
            req = urllib.request.Request(
                f"{url}/api/status", headers={"Authorization": f"token {token}"}
            )
            urllib.request.urlopen(req, timeout=5).close()
            return proc, url
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the server did not answer within 60 s") from None
            time.sleep(0.3)


async def tool_call(url: str) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {AGENT_TOKEN}"}
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool("catalog_search", {"text": "wafer"})


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_server_exits_on_a_stop_signal_after_an_mcp_call(tmp_path, hub_api, sig):
    proc, url = start_server(tmp_path, hub_api)
    try:
        result = run_async(tool_call, f"{url}/genesis/mcp")
        assert not result.is_error, result.content
        started = time.monotonic()
        proc.send_signal(sig)
        try:
            proc.wait(EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"the server still runs {EXIT_SECONDS} s after {sig.name}:\n"
                + (tmp_path / "server.log").read_text()[-3000:]
            )
        assert time.monotonic() - started < EXIT_SECONDS
        log = (tmp_path / "server.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert "Shutting down" in log, log[-3000:]  # the server's own cleanup ran
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
