"""One audit record per agent tool call: tool, argument digest, outcome, identity, client, note.

Inside a hub session the record goes to the genesis service (``POST api/audit/agent``), which
alone writes the tamper-evident log and names the authenticated caller itself; outside a hub it
goes to the local audit log of the settings (:func:`genesis_lab.access.audit.audit_log`).

Each call's record is written before its answer is sent, so the post must be cheap: it goes over
a kept-alive connection to the service (:class:`ServiceLink`), not a new one per call.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import urllib.parse
import urllib.request
import weakref
from typing import Any

from genesis_lab.errors import AuditError
from genesis_lab.mcp.context import AgentContext
from genesis_lab.settings import Settings, get_settings

__all__ = ["EVENT_TYPE", "AgentAudit", "ServiceLink", "arguments_digest"]

EVENT_TYPE = "agent.tool"
AUDIT_PATH = "api/audit/agent"


def arguments_digest(arguments: Any) -> str:
    """sha256 of the arguments' canonical JSON (sorted keys, no spaces).

    >>> arguments_digest({"b": 1, "a": [2]}) == arguments_digest({"a": [2], "b": 1})
    True
    """
    text = json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
"""How a kept-alive connection the service has closed meanwhile fails before any answer."""


class ServiceLink:
    """Kept-alive HTTP connections to the genesis service, one per concurrent caller.

    A request that fails on a reused connection before any answer came (the service closed it
    while idle, or restarted) is sent once more on a fresh one; any other failure is raised.

    >>> link = ServiceLink("http://127.0.0.1:1/services/genesis/", "token")
    >>> link.url_of("api/audit/agent")
    'http://127.0.0.1:1/services/genesis/api/audit/agent'
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 60) -> None:
        parts = urllib.parse.urlsplit(base_url if base_url.endswith("/") else base_url + "/")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AuditError(
                f"GENESIS_SERVICE_URL={base_url!r} is not an http(s) URL; allowed: "
                "http://host:port/prefix/ or https://..."
            )
        self.base_url = urllib.parse.urlunsplit(parts)
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path
        self._headers = {
            "Authorization": f"token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _close_all, self._idle, self._lock)

    def url_of(self, path: str) -> str:
        return self.base_url + path

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """``POST`` ``body`` as JSON; the status and the decoded answer (``OSError`` if the
        service cannot be reached)."""
        data = json.dumps(body).encode()
        while True:
            conn, reused = self._take()
            try:
                conn.request("POST", self._prefix + path, body=data, headers=self._headers)
                response = conn.getresponse()
                payload = response.read()
            except _STALE:
                conn.close()
                if reused:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)
            try:
                return response.status, json.loads(payload) if payload else {}
            except ValueError:
                return response.status, {"message": payload[:200].decode(errors="replace")}

    def close(self) -> None:
        """Close the idle connections (also done when the link is collected)."""
        _close_all(self._idle, self._lock)


def _close_all(idle: list[http.client.HTTPConnection], lock: threading.Lock) -> None:
    with lock:
        conns = idle[:]
        idle.clear()
    for conn in conns:
        conn.close()


def _direct(settings: Settings) -> bool:
    """Whether the service is reached without an HTTP proxy (the environment's, as urllib reads
    it): then a kept-alive connection serves; through a proxy, the SDK's own request does."""
    host = urllib.parse.urlsplit(settings.service_url or "").hostname or ""
    scheme = urllib.parse.urlsplit(settings.service_url or "").scheme
    return scheme not in urllib.request.getproxies() or bool(urllib.request.proxy_bypass(host))


class AgentAudit:
    """Writes the agent records of one context where the SDK's session writes its own."""

    def __init__(self, context: AgentContext) -> None:
        from genesis_lab.catalog.remote import service_configured

        self.context = context
        self.settings = context.settings or get_settings()
        self._link: ServiceLink | None = None
        if service_configured(self.settings) and _direct(self.settings):
            assert self.settings.service_url and self.settings.hub_api_token
            self._link = ServiceLink(self.settings.service_url, self.settings.hub_api_token)
        self._remote = service_configured(self.settings)

    def record(
        self, *, tool: str, arguments: Any, outcome: str, client: str, reason: str = ""
    ) -> None:
        """Append the record; raises :class:`AuditError` when it cannot be written."""
        body = {
            "tool": tool,
            "arguments_sha256": arguments_digest(arguments),
            "outcome": outcome,
            "client": client[:200],
            "token_note": self.context.token_note[:200],
            "reason": reason[:500],
        }
        if self._remote:
            self._post(body)
            return
        from genesis_lab.access.audit import audit_log

        audit_log(self.settings).append(
            event_type=EVENT_TYPE,
            where="genesis-lab mcp",
            source=client[:200] or "-",
            outcome=outcome,
            identity=self.context.user,
            reason=reason[:500],
            tool=tool,
            arguments_sha256=body["arguments_sha256"],
            client=body["client"],
            token_note=body["token_note"],
        )

    def _post(self, body: dict[str, Any]) -> None:
        if self._link is None:
            from genesis_lab.catalog.remote import _request  # the SDK's call, through a proxy

            status, answer = _request(self.settings, AUDIT_PATH, method="POST", body=body)
        else:
            try:
                status, answer = self._link.post(AUDIT_PATH, body)
            except (OSError, http.client.HTTPException) as exc:
                raise AuditError(
                    f"the genesis service at {self._link.base_url} did not record the agent's "
                    f"call: it cannot be reached ({exc}). Check GENESIS_SERVICE_URL."
                ) from None
        if status != 201:
            raise AuditError(
                f"the genesis service did not record the agent's call ({status}: "
                f"{answer.get('message', answer) if isinstance(answer, dict) else answer})"
            )
