"""MCP over streamable HTTP in the user's session, reached through the hub: ``<base_url>genesis/mcp``.

The MCP SDK's ASGI session manager runs in the Jupyter server's own event loop; a tornado handler
hands it each request as an ASGI call (no second port, no proxy hop). Every request's hub token
is checked with the hub: it must be this user's and carry the agent scope (``AGENT_SCOPE``), and
must not be revoked by ``genesis-lab agent stop``. The side panel's REST endpoints
(``genesis/agent/pending``, ``.../{id}/approve|reject``, ``genesis/agent/stop``) use the
server's usual login instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import httpclient, web
from tornado.iostream import StreamClosedError

from genesis_lab.access.hubapi import AGENT_SCOPE, HubClient
from genesis_lab.mcp.gate import Gate, UnknownRequestError, stop_agents
from genesis_lab.settings import get_settings

__all__ = ["AUTH_TTL_SECONDS", "AgentEndpoint", "handlers", "shutdown"]

log = logging.getLogger(__name__)

AUTH_TTL_SECONDS = 2.0
"""How long a token the hub vouched for is trusted without asking again (a revocation at the
hub counts after at most this long; a stop in the session counts at once)."""
REST_KEYS = ("tokens_revoked", "work_cancelled", "jobs_cancelled", "seconds")


class Refused(Exception):
    """A request the endpoint does not serve: ``status`` and the reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class _Manager:
    manager: Any
    done: asyncio.Event
    task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class AgentEndpoint:
    """The MCP endpoint of one session: token checks, one MCP server per agent token, the stop.

    >>> AgentEndpoint.token_from_header("Bearer abc"), AgentEndpoint.token_from_header("x")
    ('abc', None)
    """

    def __init__(self, user: str, hub_api_url: str, server_token: str, gate: Gate):
        self.user = user
        self.hub_api_url = hub_api_url.rstrip("/")
        self.server_token = server_token
        self.gate = gate
        self._auth: dict[str, tuple[float, dict[str, Any]]] = {}
        self._notes: dict[str, str] = {}
        self._managers: dict[str, _Manager] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpclient.AsyncHTTPClient | None = None
        gate.on_stop(self._stopped_from_thread)

    @classmethod
    def for_session(cls) -> AgentEndpoint:
        s = get_settings()
        return cls(s.user, s.hub_api_url or "", s.hub_api_token or "", Gate.for_session())

    @staticmethod
    def token_from_header(value: str | None) -> str | None:
        kind, _, token = (value or "").strip().partition(" ")
        return token.strip() or None if kind.lower() in ("token", "bearer") else None

    # -- who is calling -------------------------------------------------------------------
    async def _hub_get(self, path: str, token: str) -> tuple[int, Any]:
        request = httpclient.HTTPRequest(
            self.hub_api_url + path,
            headers={"Authorization": f"token {token}"},
            connect_timeout=10,
            request_timeout=30,
        )
        if self._http is None:  # its own pool: tornado's shared one holds 10 connections
            self._http = httpclient.AsyncHTTPClient(force_instance=True, max_clients=64)
        try:
            response = await self._http.fetch(request, raise_error=False)
        except OSError as exc:
            raise Refused(503, f"the hub cannot be reached to check the token: {exc}") from None
        body = json.loads(response.body) if response.body else {}
        return response.code, body

    async def identify(self, authorization: str | None) -> dict[str, Any]:
        """The hub's model of the token's owner (with ``token_id``, ``note``), or :class:`Refused`."""
        token = self.token_from_header(authorization)
        if token is None:
            raise Refused(401, "no hub token: send 'Authorization: Bearer <token>'")
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._auth.get(key)
        if cached is not None and cached[0] > time.monotonic():
            model = cached[1]
        else:
            code, model = await self._hub_get("/user", token)
            if code != 200:
                self._auth.pop(key, None)
                raise Refused(
                    403, "the hub does not accept this token (unknown, expired or revoked)"
                )
            model["note"] = await self._note(model)
            self._auth[key] = (time.monotonic() + AUTH_TTL_SECONDS, model)
        if model.get("kind", "user") != "user" or model.get("name") != self.user:
            raise Refused(403, f"this endpoint serves {self.user}'s agents only")
        if AGENT_SCOPE not in model.get("scopes", ()):
            raise Refused(
                403, f"the token lacks the agent scope {AGENT_SCOPE!r}: make one at /hub/token"
            )
        stop = self.gate.stopped()
        if stop is not None:
            raise Refused(
                403,
                f"agents were stopped by {stop.get('by')} at {stop.get('at')}; "
                "`genesis-lab agent enable` lets them in again",
            )
        if self.gate.token_revoked(model.get("token_id")):
            raise Refused(403, "this token was revoked by `genesis-lab agent stop`")
        return model

    async def _note(self, model: dict[str, Any]) -> str:
        token_id = model.get("token_id")
        if not token_id or not self.server_token:
            return ""
        if token_id not in self._notes:  # a token's note never changes
            code, info = await self._hub_get(
                f"/users/{self.user}/tokens/{token_id}", self.server_token
            )
            self._notes[token_id] = str(info.get("note") or "") if code == 200 else ""
        return self._notes[token_id]

    # -- MCP ------------------------------------------------------------------------------
    async def manager_for(self, model: dict[str, Any], client_name: str) -> Any:
        """The MCP session manager of this token (one MCP server per token, made on first use)."""
        key = str(model.get("token_id") or model.get("session_id") or "")
        entry = self._managers.get(key)
        if entry is None:
            entry = self._start_manager(model, client_name)
            self._managers[key] = entry
        while not entry.ready.is_set():
            if entry.task is not None and entry.task.done():
                self._managers.pop(key, None)
                raise Refused(500, f"the MCP server did not start: {entry.task.exception()!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry.ready.wait(), 0.5)
        return entry.manager

    def _start_manager(self, model: dict[str, Any], client_name: str) -> _Manager:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        from genesis_lab.mcp.context import AgentContext
        from genesis_lab.mcp.server import build_server

        self._loop = asyncio.get_running_loop()
        context = AgentContext.from_settings(
            client_name=client_name, token_note=str(model.get("note", "")), gate=self.gate
        )
        manager = StreamableHTTPSessionManager(app=build_server(context))
        entry = _Manager(manager=manager, done=asyncio.Event())

        async def run() -> None:
            async with manager.run():
                entry.ready.set()
                await entry.done.wait()

        entry.task = asyncio.ensure_future(run())
        return entry

    def close_all(self) -> None:
        """End every MCP session (a stop): their in-flight requests end with them."""
        managers, self._managers = self._managers, {}
        self._auth.clear()
        for entry in managers.values():
            entry.done.set()

    async def aclose(self, timeout: float = 5.0) -> None:
        """End every MCP session and wait (at most ``timeout`` s) until each session manager has
        left its ``run()``: its task group ends, so anyio's worker threads stop and the process
        can exit (the server's shutdown calls this while its event loop still runs)."""
        tasks = [e.task for e in self._managers.values() if e.task is not None]
        self.close_all()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        if self._http is not None:
            self._http.close()
            self._http = None

    def _stopped_from_thread(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close_all)
        else:
            self._auth.clear()


_ENDPOINT: AgentEndpoint | None = None


def endpoint() -> AgentEndpoint:
    """This server process's endpoint (made on first use)."""
    global _ENDPOINT
    if _ENDPOINT is None:
        _ENDPOINT = AgentEndpoint.for_session()
    return _ENDPOINT


async def shutdown() -> None:
    """End this process's MCP sessions, if any were made (the server extension's stop hook)."""
    if _ENDPOINT is not None:
        await _ENDPOINT.aclose()


class MCPHandler(web.RequestHandler):
    """``<base_url>genesis/mcp``: MCP streamable HTTP, authenticated by a hub token only."""

    _closed: asyncio.Event
    _done = False
    _body_sent = False

    def check_xsrf_cookie(self) -> None:
        """Cookies are never accepted here (only a token header), so XSRF cannot apply."""

    def prepare(self) -> None:
        self._closed = asyncio.Event()

    def on_connection_close(self) -> None:
        self._closed.set()

    def _refuse(self, refused: Refused) -> None:
        self.set_status(refused.status)
        if refused.status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="genesis-lab"')
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": str(refused)}))

    async def _serve(self) -> None:
        ep = endpoint()
        try:
            model = await ep.identify(self.request.headers.get("Authorization"))
        except Refused as refused:
            self._refuse(refused)
            return
        manager = await ep.manager_for(model, self.request.headers.get("User-Agent", ""))
        await manager.handle_request(self._scope(), self._receive, self._send)
        if not self._done:
            self._finish()

    def _finish(self) -> None:
        self._done = True
        with contextlib.suppress(StreamClosedError):
            self.finish()

    get = post = delete = _serve

    def _scope(self) -> dict[str, Any]:
        req = self.request
        host, _, port = (req.host or "127.0.0.1").partition(":")
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": req.method,
            "scheme": req.protocol,
            "path": req.path,
            "raw_path": req.path.encode(),
            "query_string": (req.query or "").encode(),
            "root_path": "",
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.get_all()
            ],
            "client": (req.remote_ip or "127.0.0.1", 0),
            "server": (host, int(port) if port.isdigit() else 80),
        }

    async def _receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.request.body or b"", "more_body": False}
        await self._closed.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if self._closed.is_set() or self._done:
            return
        if message["type"] == "http.response.start":
            self.set_status(message["status"])
            self.clear_header("Content-Type")
            for k, v in message.get("headers", []):
                self.add_header(k.decode("latin-1"), v.decode("latin-1"))
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                self.write(body)
            try:
                if message.get("more_body", False):
                    await self.flush()
                else:
                    self._finish()
            except StreamClosedError:
                self._closed.set()


class PendingHandler(APIHandler):
    """``GET genesis/agent/pending``: the calls waiting for the user."""

    @web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(endpoint().gate.pending()))


class DecisionHandler(APIHandler):
    """``POST genesis/agent/pending/{id}/approve|reject``."""

    @web.authenticated
    def post(self, request_id: str, action: str) -> None:
        gate, by = endpoint().gate, self.current_user.username
        try:
            (gate.approve if action == "approve" else gate.reject)(request_id, by=by)
        except UnknownRequestError as exc:
            raise web.HTTPError(404, str(exc)) from None
        self.finish(json.dumps({"id": request_id, "decision": gate.decision(request_id)}))


class StopHandler(APIHandler):
    """``POST genesis/agent/stop``: refuse agents, cancel their work and jobs, revoke tokens."""

    @web.authenticated
    async def post(self) -> None:
        ep = endpoint()
        hub = HubClient(ep.hub_api_url, ep.server_token) if ep.server_token else None
        by = self.current_user.username
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, stop_agents, ep.gate, hub, by)
        ep.close_all()
        self.finish(json.dumps({k: result[k] for k in REST_KEYS}))


def handlers(base_url: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """The routes under ``<base_url>genesis/``.

    >>> [route for route, _ in handlers("/user/ada/")][0]
    '/user/ada/genesis/mcp'
    """
    base = url_path_join(base_url, "genesis")
    agent = url_path_join(base, "agent")
    return [
        (url_path_join(base, "mcp"), MCPHandler),
        (url_path_join(agent, "pending"), PendingHandler),
        (url_path_join(agent, "pending", r"([A-Za-z0-9-]+)", r"(approve|reject)"), DecisionHandler),
        (url_path_join(agent, "stop"), StopHandler),
    ]
