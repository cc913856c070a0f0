"""``genesis-lab mcp``: the MCP endpoint for agents over stdio, as this session's user.

The identity, allocation and genesis service address are the session's, read as the SDK reads
them (``JUPYTERHUB_USER``, ``GENESIS_ALLOCATION``, ``GENESIS_SERVICE_URL``, the session's token);
on a laptop without a hub the tools use the local catalog and the local audit log.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mcp",
        help="serve the MCP tools for agents over stdio, as this session's user",
        description="Serve the genesis-lab MCP tools over stdio (JSON-RPC on stdin/stdout) as "
        "this session's user, charged to its allocation, every call audited. Point an MCP "
        'client at it, e.g. {"command": "genesis-lab", "args": ["mcp"]}.',
    )
    p.add_argument("--client-name", default="",
                   help="the client's name when it does not give one at initialize")  # fmt: skip
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import anyio

    from genesis_lab.mcp.stdio import serve_stdio

    anyio.run(serve_stdio, args.client_name)
    return 0
