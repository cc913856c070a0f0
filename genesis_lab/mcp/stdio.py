"""Serve the MCP tools over stdio for the session's own identity (``genesis-lab mcp``).

When stdin and stdout are pipes or sockets (as an MCP client starts its server), the messages go
through the event loop's own non-blocking pipes: the SDK's default reads and writes each line in
a worker thread, three thread hops per call. Either way, while serving, fd 0 reads the null
device and fd 1 writes to stderr, so a stray ``print`` or a child process never corrupts the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["serve_stdio"]


async def serve_stdio(client_name: str = "") -> None:
    """Run the server on stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.mcp.server import build_server

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    server = build_server(AgentContext.from_settings(client_name=client_name))
    async with _wire() as streams, stdio_server(*streams) as (read, write):
        await server.run(read, write, server.create_initialization_options())


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextlib.asynccontextmanager
async def _wire() -> AsyncIterator[tuple[Any, Any]]:
    """``(stdin, stdout)`` for the SDK's ``stdio_server``: event-loop pipes over private copies
    of fds 0 and 1, or ``(None, None)`` (the SDK's own threads) when they are not pipes."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio): the SDK's streams serve it
        loop = None
    if loop is None or not (_is_pipe(0) and _is_pipe(1)):
        yield None, None
        return
    sys.stdout.flush()
    saved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (0, 1)]
    wire_in, wire_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (0, 1))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    reader = asyncio.StreamReader(limit=1 << 26)
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", 0)
    )
    write_transport, protocol = await loop.connect_write_pipe(
        lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), os.fdopen(wire_out, "wb", 0)
    )
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    try:
        yield _Lines(reader), _Writer(writer)
    finally:
        read_transport.close()
        write_transport.close()
        for fd, copy in zip((0, 1), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


class _Lines:
    """The client's messages, one JSON-RPC line each (what ``stdio_server`` iterates over)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Writer:
    """The answers (``write`` then ``flush``, as ``stdio_server`` calls them)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()
