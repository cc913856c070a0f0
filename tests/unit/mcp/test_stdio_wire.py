"""``genesis-lab mcp``'s stdio wire: answers go out on the event loop's own pipes, and output a
tool or its child processes write to stdout never reaches the client's JSON-RPC stream."""

from __future__ import annotations

import json
import os
import sys
import textwrap

SERVER = textwrap.dedent(
    """
    import os, subprocess, sys
    import anyio
    from genesis_lab.mcp.tools import Toolbox

    search = Toolbox.catalog_search

    def noisy(self, a, notify):
        print("stray print from a tool")
        sys.stdout.flush()
        subprocess.run(["echo", "stray line from a child process"], check=True)
        os.write(1, b"stray bytes on fd 1\\n")
        return search(self, a, notify)

    Toolbox.catalog_search = noisy
    from genesis_lab.mcp.stdio import serve_stdio
    anyio.run(serve_stdio, "")
    """
)


def _exchange(genesis_home, lines: list[dict]) -> tuple[list[bytes], str]:
    """Send ``lines`` to a server process one by one, each request after the answer to the one
    before; every line that came back on stdout, and stderr."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    env["GENESIS_HOME"] = str(genesis_home)
    out: list[bytes] = []
    with subprocess.Popen([sys.executable, "-c", SERVER], env=env, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:  # fmt: skip
        try:
            for message in lines:
                proc.stdin.write(json.dumps(message).encode() + b"\n")
                proc.stdin.flush()
                while "id" in message:  # a request: read up to its answer
                    out.append(proc.stdout.readline())
                    assert out[-1], "the server closed stdout"
                    if json.loads(out[-1]).get("id") == message["id"]:
                        break
            proc.stdin.close()
            out += proc.stdout.read().splitlines()
            err = proc.stderr.read().decode(errors="replace")
            assert proc.wait(60) == 0, err[-2000:]
        finally:
            proc.kill()
    return [line for line in out if line.strip()], err


def test_stray_output_of_a_tool_never_reaches_the_wire(genesis_home) -> None:
    import mcp_types as types

    import genesis_lab as gl

    hello = {"protocolVersion": types.DEFAULT_NEGOTIATED_VERSION, "capabilities": {},
             "clientInfo": {"name": "wire-test", "version": "1"}}  # fmt: skip
    calls = [{"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
              "params": {"name": "catalog_search", "arguments": {"text": "neutron"}}}
             for i in range(3)]  # fmt: skip
    out, err = _exchange(
        genesis_home,
        [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
         {"jsonrpc": "2.0", "method": "notifications/initialized"}, *calls],
    )  # fmt: skip
    messages = [json.loads(line) for line in out]  # every line on the wire is JSON-RPC
    answers = {m["id"]: m for m in messages if m.get("id", 0) >= 10}
    want = sorted(e.id for e in gl.search("neutron"))
    assert sorted(answers) == [10, 11, 12]
    for answer in answers.values():
        assert not answer["result"].get("isError"), answer
        assert sorted(e["id"] for e in answer["result"]["structuredContent"]["entries"]) == want
    for stray in ("stray print from a tool", "stray line from a child", "stray bytes on fd 1"):
        assert err.count(stray) == 3, err[-2000:]
