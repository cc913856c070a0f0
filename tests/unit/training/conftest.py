"""A stand-in for the hub's REST API: courses need their hub group, and unit tests start no hub."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from genesis_lab.settings import reset_settings


@pytest.fixture(autouse=True)
def fake_hub(monkeypatch):
    """Answers group and user calls like the hub (201 made, 409 exists, 404 unknown user);
    ``calls`` lists ``(method, path, body)``."""
    calls: list[tuple[str, str, object]] = []
    groups: set[str] = set()
    users: set[str] = set()

    class Hub(BaseHTTPRequestHandler):
        def _answer(self, status, body=None):
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = self.path.removeprefix("/hub/api")
            calls.append((self.command, path, body))
            parts = path.strip("/").split("/")
            if parts[0] == "groups" and len(parts) == 2 and self.command == "POST":
                if parts[1] in groups:
                    return self._answer(409, {"message": "exists"})
                groups.add(parts[1])
                return self._answer(201)
            if parts[0] == "users" and len(parts) == 2:
                if self.command == "POST":
                    users.add(parts[1])
                    return self._answer(201)
                return self._answer(200 if parts[1] in users else 404)
            return self._answer(200)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{server.server_port}/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "test-admin-token")
    reset_settings()
    yield calls
    server.shutdown()
    server.server_close()
