"""Serve the MCP tools over stdio for the session's own identity (``genesis-lab mcp``)."""

from __future__ import annotations

import logging
import sys

__all__ = ["serve_stdio"]


async def serve_stdio(client_name: str = "") -> None:
    """Run the server on stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.mcp.server import build_server

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    server = build_server(AgentContext.from_settings(client_name=client_name))
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
