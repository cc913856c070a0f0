"""The agent audit's posts to the genesis service: one kept-alive connection for many records, a
connection the service closed meanwhile is replaced without losing or doubling a record, and a
record the service did not take fails the tool call (never a silent loss)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import connect


class FakeService(ThreadingHTTPServer):
    """``POST <prefix>api/audit/agent`` as the genesis service answers it: 201 and the record
    kept, or ``status`` when set; counts the TCP connections it accepted."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.records: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.connections = 0
        self.status = 201
        self.close_after_answer = False  # drop the connection without saying so (idle timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/genesis/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeService

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.path == "/services/genesis/api/audit/agent", self.path
        status = self.server.status
        if status == 201:
            self.server.records.append(json.loads(body))
            self.server.tokens.append(self.headers["Authorization"])
        answer = json.dumps({"recorded": True} if status == 201 else {"message": "disk full"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())
        if self.server.close_after_answer:
            self.close_connection = True


@pytest.fixture
def service() -> Iterator[FakeService]:
    server = FakeService()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def session_context(tmp_path, make_gate, service):
    """An agent context inside a hub session: the service's address and the session's token."""
    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.settings import Settings

    settings = Settings(service_url=service.url, hub_api_token="session-token")
    return AgentContext(
        "ada", "local", gate=make_gate(), state_dir=tmp_path / "state", settings=settings
    )


def _record(audit: Any, i: int) -> None:
    audit.record(tool="catalog_search", arguments={"i": i}, outcome="success", client="c")


def test_many_records_share_one_kept_alive_connection(session_context, service) -> None:
    from genesis_lab.mcp.audit import AgentAudit, arguments_digest

    audit = AgentAudit(session_context)
    for i in range(20):
        _record(audit, i)
    assert [r["arguments_sha256"] for r in service.records] == [
        arguments_digest({"i": i}) for i in range(20)
    ]
    assert set(service.tokens) == {"token session-token"}
    assert service.connections == 1


def test_a_connection_the_service_dropped_is_replaced_and_no_record_lost_or_doubled(
    session_context, service
) -> None:
    from genesis_lab.mcp.audit import AgentAudit, arguments_digest

    service.close_after_answer = True
    audit = AgentAudit(session_context)
    for i in range(5):
        _record(audit, i)
    assert [r["arguments_sha256"] for r in service.records] == [
        arguments_digest({"i": i}) for i in range(5)
    ]
    assert service.connections == 5


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
def test_a_record_the_service_did_not_take_fails_the_tool_call(
    session_context, service, failure
) -> None:
    from genesis_lab.errors import AuditError
    from genesis_lab.mcp.audit import AgentAudit
    from genesis_lab.mcp.server import build_server

    if failure == "refused":
        service.status = 500
    else:
        service.shutdown()
        service.server_close()
    with pytest.raises(AuditError, match="did not record"):
        _record(AgentAudit(session_context), 0)
    with connect(build_server(session_context)) as client:
        try:
            result = client.call_tool("catalog_search", {"text": "neutron"})
        except Exception as exc:  # the SDK's error answer: the call failed
            answer = str(exc)
        else:
            assert result.is_error, "a call whose audit record was lost was answered"
            answer = json.dumps(result.structured_content) + str(result.content)
    assert "neutron" not in answer and "entries" not in answer
    assert service.records == []


def test_a_collected_audit_closes_its_connections(session_context, service) -> None:
    import gc
    import warnings

    from genesis_lab.mcp.audit import AgentAudit

    gc.collect()  # earlier tests' garbage in this worker is not this test's
    audit = AgentAudit(session_context)
    _record(audit, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del audit
        gc.collect()
    port = str(service.server_address[1])
    assert not [w for w in caught
                if issubclass(w.category, ResourceWarning) and port in str(w.message)]  # fmt: skip
    assert len(service.records) == 1
