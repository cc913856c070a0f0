"""The one JSON request with a hub token (``token_request``) and the hub client's errors on top of
it, against a small local HTTP server that answers as the hub and the genesis service do."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.net import free_port

from genesis_lab.access.hubapi import (
    HubAccessDenied,
    HubAPIError,
    HubClient,
    TokenRequestError,
    token_request,
)

LONG_TEXT = "proxy error " * 100


@pytest.fixture(scope="module")
def server():
    """``/echo`` answers what it got; ``/empty`` nothing; ``/status/N`` status N with a JSON
    message; ``/text/N`` status N with a plain-text page."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            got = {"method": self.command, "path": self.path,
                   "authorization": self.headers.get("Authorization"),
                   "content_type": self.headers.get("Content-Type"),
                   "body": json.loads(self.rfile.read(length)) if length else None}  # fmt: skip
            seen.append(got)
            parts = self.path.strip("/").split("/")
            if parts[0] == "echo":
                self._send(200, json.dumps(got).encode())
            elif parts[0] == "empty":
                self._send(200, b"")
            elif parts[0] == "status":
                self._send(int(parts[1]), json.dumps({"message": f"said with {parts[1]}"}).encode())
            else:
                self._send(int(parts[1]), LONG_TEXT.encode())

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_the_token_and_the_json_body_go_and_the_json_answer_comes_back(server):
    body = {"allocation": "a", "cores": 2, "nested": [1, "x"]}
    got = token_request(f"{server}/echo/x", "tok-1", "POST", body)
    assert got["method"] == "POST" and got["path"] == "/echo/x"
    assert got["authorization"] == "token tok-1"
    assert got["content_type"] == "application/json"
    assert got["body"] == body
    assert token_request(f"{server}/echo", "t")["body"] is None  # a GET sends no body
    assert token_request(f"{server}/empty", "t", "DELETE") == {}


def test_errors_carry_the_status_and_the_servers_message(server):
    with pytest.raises(TokenRequestError) as err:
        token_request(f"{server}/status/409", "t", "POST", {})
    assert (err.value.status, err.value.detail) == (409, "said with 409")
    with pytest.raises(TokenRequestError) as err:
        token_request(f"{server}/text/502", "t")
    assert err.value.status == 502 and err.value.detail == LONG_TEXT[:300]
    with pytest.raises(TokenRequestError) as err:
        token_request(f"http://127.0.0.1:{free_port()}/x", "t", timeout=5)
    assert err.value.status is None and "refused" in err.value.detail.lower()


def test_the_hub_client_names_the_hub_and_the_fix(server):
    hub = HubClient(f"{server}/status/403", "t")
    with pytest.raises(HubAccessDenied) as err:
        hub.call("GET", "/users")
    assert err.value.status == 403
    assert str(err.value).startswith("The hub refused GET /users: said with 403.")
    assert "scopes allow it" in str(err.value)
    with pytest.raises(HubAPIError) as err:
        HubClient(f"{server}/status/404", "t").call("DELETE", "/users/x")
    assert err.value.status == 404 and not isinstance(err.value, HubAccessDenied)
    assert str(err.value) == "The hub answered 404 to DELETE /users/x: said with 404"
    url = f"http://127.0.0.1:{free_port()}/hub/api"
    with pytest.raises(HubAPIError) as err:
        HubClient(url, "t").whoami()
    assert err.value.status is None and str(err.value).startswith(f"Cannot reach the hub at {url}")
    assert HubClient(f"{server}/echo", "tok-2").whoami()["authorization"] == "token tok-2"
