"""Fixtures of the MCP tests: a real human gate in a temporary folder, an agent context, and an
in-memory MCP client (the ``mcp`` package's own) driven from synchronous tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal


@pytest.fixture
def make_gate(tmp_path: Path):
    from genesis_lab.compute.allocations import AgentLimits
    from genesis_lab.mcp.gate import Gate

    gates = []

    def make(**limits: Any) -> Gate:
        gate = Gate(AgentLimits(**limits), tmp_path / "agents", allocation="local")
        gates.append(gate)
        return gate

    yield make
    for gate in gates:
        gate.close()


@pytest.fixture
def context(tmp_path: Path, make_gate):
    from genesis_lab.mcp.context import AgentContext

    return AgentContext("ada", "local", gate=make_gate(), state_dir=tmp_path / "state")


class SyncClient:
    """The mcp package's in-memory client, called from synchronous code through a portal."""

    def __init__(self, portal: BlockingPortal, client: Any) -> None:
        self.portal = portal
        self.client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        return lambda *a, **kw: self.portal.call(lambda: method(*a, **kw))


@contextlib.contextmanager
def connect(server: Any, **client_kw: Any) -> Iterator[SyncClient]:
    """A connected in-memory client to ``server`` (a built MCP server)."""
    from mcp import Client

    with contextlib.ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal())
        client = stack.enter_context(portal.wrap_async_context_manager(Client(server, **client_kw)))
        yield SyncClient(portal, client)


@pytest.fixture
def client(context):
    from genesis_lab.mcp.server import build_server

    with connect(build_server(context)) as c:
        yield c
