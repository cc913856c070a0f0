"""Request handlers of the genesis service: every request authenticated by the hub, decided by
:mod:`genesis_lab.access.policy` with the caller's current groups, and written to the audit log.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import select
import time
from pathlib import Path
from typing import Any, NoReturn

from jupyterhub.services.auth import HubOAuthenticated
from tornado import httputil, iostream, web

from genesis_lab.access.policy import Decision, Identity, decide, identity_from_hub_model
from genesis_lab.catalog.entry import DOMAINS, KINDS, MARKINGS, Entry
from genesis_lab.errors import AuditError, GenesisError, ParameterError
from genesis_lab.service.audit_guard import FIX
from genesis_lab.service.metrics import (
    AGENT_CALLS,
    AGENT_TOOLS,
    AUDIT_RECORDS,
    REQUEST_SECONDS,
    REQUESTS,
)
from genesis_lab.service.state import ServiceState
from genesis_lab.service.store import UnsafePathError, resolve_file, store_files
from genesis_lab.service.views import dcat_catalog, entry_view

__all__ = ["HANDLERS"]

NOT_FOUND_MESSAGE = "No entry with id {id!r} in the catalog."
SEND_TIMEOUT_S = 120.0
SENDFILE_MIN_BYTES = 1 << 20
"""Whole-file answers at least this large go out by ``sendfile(2)`` on a closing connection;
smaller ones through tornado on the kept-alive connection (a new connection costs more than
copying a small file)."""


def send_file(out_fd: int, in_fd: int, size: int, timeout: float) -> None:
    """``sendfile(2)`` all of ``in_fd`` to the non-blocking socket ``out_fd``, waiting for room
    with ``poll``; run in a worker thread, so several files go out at once while the event loop
    goes on answering other requests. Raises ``TimeoutError`` if the client stops reading."""
    poller = select.poll()
    poller.register(out_fd, select.POLLOUT)
    offset = 0
    while offset < size:
        try:
            sent = os.sendfile(out_fd, in_fd, offset, size - offset)
        except BlockingIOError:
            if not poller.poll(timeout * 1000):
                raise TimeoutError(f"the client read nothing for {timeout:.0f} s") from None
            continue
        if sent == 0:
            raise BrokenPipeError("the file ended early or the client went away")
        offset += sent


def audit_failed_message(why: str | None) -> str:
    """The body of the 503 while the audit log is failed.

    >>> audit_failed_message("cut short").startswith("The audit log failed verification")
    True
    """
    return (
        f"The audit log failed verification ({why or 'its last write failed'}), so this service "
        f"refuses data until it is dealt with. {FIX}"
    )


class _Handled(Exception):
    """Raised after a response was written and audited, to stop the handler."""


class GenesisHandler(HubOAuthenticated, web.RequestHandler):
    """Base: hub authentication in :meth:`prepare`, JSON errors, one audit record per request."""

    event_type = "service.request"
    serves_during_audit_fault = False
    """Catalog metadata handlers go on (public entries only) while the audit log is failed."""
    state: ServiceState

    def initialize(self, state: ServiceState) -> None:
        self.state = state
        self.hub_auth = state.hub_auth
        self.identity: Identity | None = None
        self.hub_model: dict[str, Any] | None = None
        self.dataset_id: str | None = None
        self._audited = False

    # -- authentication -------------------------------------------------------------------
    def check_xsrf_cookie(self) -> None:
        """Writes are token-authenticated (see :meth:`prepare`), so XSRF does not apply."""

    async def prepare(self) -> None:
        model = self.hub_model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            self.set_header("WWW-Authenticate", 'token realm="genesis"')
            self.fail(401, "unauthenticated", "A valid hub token is required.", "unauthenticated")
        name = model.get("name", "?")
        if self.request.method not in ("GET", "HEAD") and not getattr(
            self, "_token_authenticated", False
        ):
            self.fail(403, "forbidden", "Writes need an Authorization token header.", "denied",
                      identity=name)  # fmt: skip
        scopes = self.hub_scopes
        if scopes and not self.hub_auth.check_scopes(scopes, model):
            self.fail(
                403,
                "forbidden",
                f"The token of {name} lacks the scope to use this service "
                f"(one of {', '.join(sorted(scopes))}).",
                "denied",
                identity=name,
            )
        settings = self.state.settings
        self.identity = identity_from_hub_model(
            model, clearance_groups=settings.clearance_groups, vetted_group=settings.vetted_group
        )
        if self.state.audit_fault and not self.serves_during_audit_fault:
            self.refuse_audit_failed()

    def refuse_audit_failed(self) -> NoReturn:
        """503 while the audit log is failed: why, and what the administrator must run."""
        self.fail(503, "audit-log-failed", audit_failed_message(self.state.audit_fault), "error")

    # -- responses and audit --------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The service's URL as the caller reached it (through the proxy or directly)."""
        return f"{self.request.protocol}://{self.request.host}{self.state.prefix}"

    def source_address(self) -> str:
        forwarded = self.request.headers.get("X-Forwarded-For", "")
        return forwarded.split(",")[0].strip() or str(self.request.remote_ip)

    def _audit_record(
        self, outcome: str, reason: str, identity: str | None, extra: dict[str, Any]
    ) -> dict[str, Any] | None:
        if self._audited:
            return None
        self._audited = True
        AUDIT_RECORDS.labels(outcome).inc()
        return dict(
            event_type=self.event_type,
            where=f"genesis {self.request.method} {self.request.path}",
            source=self.source_address(),
            outcome=outcome,
            identity=identity or (self.identity.name if self.identity else "-"),
            dataset=self.dataset_id,
            reason=reason,
            peer=str(self.request.remote_ip),
            **extra,
        )

    def audit(
        self, outcome: str, reason: str = "", *, identity: str | None = None, **extra: Any
    ) -> None:
        """Append this request's record (once) before answering."""
        record = self._audit_record(outcome, reason, identity, extra)
        if record is not None:
            self.state.record_audit(record)

    async def audit_in_thread(self, outcome: str, reason: str = "", **extra: Any) -> None:
        """As :meth:`audit`, with the fsync off the event loop (other requests go on meanwhile)."""
        record = self._audit_record(outcome, reason, None, extra)
        if record is not None:
            await self.state.append_audit(record)

    def on_finish(self) -> None:
        REQUESTS.labels(self.event_type, str(self.get_status())).inc()
        REQUEST_SECONDS.labels(self.event_type).observe(self.request.request_time())

    def send_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(obj, default=str))

    def fail(
        self,
        status: int,
        error: str,
        message: str,
        outcome: str,
        *,
        reason: str | None = None,
        identity: str | None = None,
    ) -> NoReturn:
        """Audit, answer ``{"error", "message"}`` with ``status`` and stop the handler."""
        self.audit(outcome, reason if reason is not None else message, identity=identity)
        self.send_json({"error": error, "message": message}, status)
        raise _Handled()

    def not_found(self, entry_id: str) -> NoReturn:
        """The answer for an unknown id, and for an entry the caller may not know exists."""
        self.fail(
            404,
            "not-found",
            NOT_FOUND_MESSAGE.format(id=entry_id),
            "not-found",
            reason="unknown id or not visible to the caller",
        )

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, _Handled):
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AuditError) or (status_code >= 500 and self.state.audit_fault):
            self.set_status(503)
            with contextlib.suppress(GenesisError):
                self.audit("error", f"503: audit log failed: {self.state.audit_fault}")
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"error": "audit-log-failed",
                                    "message": audit_failed_message(self.state.audit_fault)}))  # fmt: skip
            return
        message = self._reason
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        # if the audit log itself failed, the answer is already an error
        with contextlib.suppress(GenesisError):
            self.audit("error" if status_code >= 500 else "denied", f"{status_code}: {message}")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": "error", "message": message}))

    # -- lookups --------------------------------------------------------------------------
    def lookup(self, entry_id: str, kind: str | None = None) -> tuple[Entry, Decision]:
        """The visible entry and the caller's decision on it, or the not-found answer."""
        self.dataset_id = entry_id
        entry = self.state.catalog().entries.get(entry_id)
        if entry is None or (kind is not None and entry.kind != kind):
            self.not_found(entry_id)
        assert entry is not None and self.identity is not None
        decision = decide(self.identity, entry)
        if not decision.visible:
            self.not_found(entry_id)
        if self.state.audit_fault and entry.marking != "public":
            self.refuse_audit_failed()
        return entry, decision

    def deny(self, decision: Decision) -> NoReturn:
        self.fail(403, "forbidden", decision.reason, "denied")

    def check_challenge(self, challenge: str) -> None:
        """Stop unless the caller may run ``challenge``: it is readable and so are its datasets."""
        assert self.identity is not None
        entry = next(
            (
                e
                for e in self.state.catalog()
                if e.kind == "challenge" and e.options.get("challenge") == challenge
            ),
            None,
        )
        if entry is None:
            self.not_found(challenge)
        entry, decision = self.lookup(entry.id, kind="challenge")
        if not decision.may_read:
            self.deny(decision)
        from genesis_lab.pipelines import get_challenge

        for dataset_id in get_challenge(challenge, self.state.settings).datasets:
            ds = self.state.catalog().entries.get(dataset_id)
            if ds is not None and not decide(self.identity, ds).may_read:
                self.fail(403, "forbidden",
                          f"The challenge reads {dataset_id}, which {self.identity.name} may not.",
                          "denied")  # fmt: skip

    def visible_entries(self) -> list[tuple[Entry, Decision]]:
        assert self.identity is not None
        out = []
        public_only = bool(self.state.audit_fault)
        for entry in self.state.catalog():
            decision = decide(self.identity, entry)
            if decision.visible and not (public_only and entry.marking != "public"):
                out.append((entry, decision))
        return out


def _choice(handler: GenesisHandler, name: str, allowed: tuple[str, ...]) -> str | None:
    value = handler.get_query_argument(name, None)
    if value is not None and value not in allowed:
        handler.fail(
            400,
            "bad-parameter",
            f"{name}={value!r} is not allowed. Allowed values: {', '.join(allowed)}",
            "denied",
        )
    return value


class CatalogHandler(GenesisHandler):
    """``GET /api/catalog``: the entries the caller may see, searched by ``q`` and facets."""

    event_type = "catalog.list"
    serves_during_audit_fault = True

    def get(self) -> None:
        q = self.get_query_argument("q", None)
        if q:
            self.event_type = "catalog.search"
        domain = _choice(self, "domain", DOMAINS)
        kind = _choice(self, "kind", KINDS)
        marking = _choice(self, "marking", MARKINGS)
        keyword = self.get_query_argument("keyword", None)
        visible = {e.id: d for e, d in self.visible_entries()}
        from genesis_lab.catalog.catalog import Catalog

        sub = Catalog(entries={i: self.state.catalog().entries[i] for i in visible})
        try:
            hits = sub.search(q, domain=domain, kind=kind, keyword=keyword, marking=marking)
        except ParameterError as exc:  # pragma: no cover - facets are checked above
            self.fail(400, "bad-parameter", str(exc), "denied")
        views = [entry_view(e, visible[e.id], self.state.store_of(e), self.base_url) for e in hits]
        self.audit("success", f"{len(views)} entries listed", count=len(views), query=q or "")
        self.send_json({"count": len(views), "entries": views})


class EntryHandler(GenesisHandler):
    """``GET /api/catalog/{domain}/{name}``: one entry's metadata; distributions if readable."""

    event_type = "catalog.get"
    serves_during_audit_fault = True

    def get(self, domain: str, name: str) -> None:
        entry, decision = self.lookup(f"{domain}/{name}")
        self.audit("success", decision.reason)
        self.send_json(entry_view(entry, decision, self.state.store_of(entry), self.base_url))


class DataHandler(GenesisHandler, web.StaticFileHandler):
    """``GET /api/data/{domain}/{name}[/path]``: a store's file list, or one of its files."""

    event_type = "data.read"

    def initialize(self, state: ServiceState) -> None:  # type: ignore[override]
        GenesisHandler.initialize(self, state)
        web.StaticFileHandler.initialize(self, path=str(state.data_root))

    def _readable_store(self, domain: str, name: str):
        entry, decision = self.lookup(f"{domain}/{name}")
        if not decision.may_read:
            self.deny(decision)
        store = self.state.store_of(entry)
        if store is None:
            self.fail(
                404,
                "no-data",
                f"{entry.id} has no files served by this service (open it with the SDK, "
                "which uses its loader).",
                "not-found",
            )
        return entry, decision, store

    async def get(self, domain: str, name: str, path: str | None = None, include_body=True):
        entry, decision, store = self._readable_store(domain, name)
        if not path:
            files = store_files(store, self.state.data_root)
            self.audit("success", decision.reason, files=len(files))
            self.send_json(
                {
                    "id": entry.id,
                    "format": next((d.format for d in entry.distribution if d.format), None),
                    "url": f"{self.base_url}api/data/{entry.id}/",
                    "files": files,
                }
            )
            return
        try:
            target = resolve_file(store, self.state.data_root, path)
        except UnsafePathError as exc:
            self.fail(400, "bad-path", f"{exc}.", "denied", reason=f"unsafe path {path!r}: {exc}")
        except FileNotFoundError:
            self.fail(404, "no-file", f"{entry.id} has no file {path!r}.", "not-found")
        await self.audit_in_thread("success", decision.reason, file=path)
        if include_body and self._whole_file_wanted():
            size = target.stat().st_size
            if size >= SENDFILE_MIN_BYTES:
                await self._send_whole_file(target, size)
                return
        self.root = str(target.parent)
        await web.StaticFileHandler.get(self, target.name, include_body=include_body)

    def _whole_file_wanted(self) -> bool:
        return self.request.version == "HTTP/1.1" and "Range" not in self.request.headers

    async def _send_whole_file(self, target: Path, size: int) -> None:
        """Answer with the file by ``sendfile(2)``: the bytes go from the page cache to the socket
        without passing through Python (tornado writes every byte through its buffers, which
        cost 0.65–0.9 s of CPU per GB on loopback here against 0.18 s this way).

        tornado has no sendfile, so the handler takes the connection over (``detach``), writes
        the head itself and closes the connection after the body.
        """
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {mimetypes.guess_type(target.name)[0] or 'application/octet-stream'}\r\n"
            f"Content-Length: {size}\r\n"
            "Cache-Control: no-store\r\n"
            f"Date: {httputil.format_timestamp(time.time())}\r\n"
            "Connection: close\r\n\r\n"
        )
        stream = self.detach()
        try:
            await stream.write(head.encode("latin-1"))
            with open(target, "rb") as fh:
                await self.state.run_data_io(
                    send_file, stream.socket.fileno(), fh.fileno(), size, SEND_TIMEOUT_S
                )
        except (OSError, iostream.StreamClosedError):
            pass  # the client went away; its request is already audited
        finally:
            stream.close()

    async def head(self, domain: str, name: str, path: str | None = None):  # type: ignore[override]
        await self.get(domain, name, path, include_body=False)

    @classmethod
    def get_content(cls, abspath: str, start: int | None = None, end: int | None = None):
        """The file's bytes in 4 MiB pieces (tornado's 64 KiB pieces cap loopback throughput)."""
        with open(abspath, "rb") as fh:
            if start is not None:
                fh.seek(start)
            remaining = None if end is None else end - (start or 0)
            while remaining is None or remaining > 0:
                size = 4 << 20 if remaining is None else min(4 << 20, remaining)
                chunk = fh.read(size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def compute_etag(self) -> str | None:
        # No ETag: tornado's hashes every served file once in full and keeps the hash forever;
        # answers are ``no-store`` anyway, since access is decided afresh on each request.
        return None

    def get_content_type(self) -> str:
        mime, _ = mimetypes.guess_type(self.absolute_path or "")
        return mime or "application/octet-stream"

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")


class DcatHandler(GenesisHandler):
    """``GET /api/dcat``: the DCAT-US 1.1 catalog of the entries the caller may see."""

    event_type = "dcat.export"
    serves_during_audit_fault = True

    def get(self) -> None:
        items = [(e, d, self.state.store_of(e)) for e, d in self.visible_entries()]
        self.audit("success", f"{len(items)} entries exported", count=len(items))
        self.send_json(dcat_catalog(items, self.base_url, self.state.settings.dcat))


class OpenAPIHandler(GenesisHandler):
    """``GET /api/openapi.json``: the OpenAPI description of this API."""

    event_type = "openapi.get"
    serves_during_audit_fault = True

    def get(self) -> None:
        from genesis_lab.service.openapi import openapi_document

        self.audit("success")
        self.send_json(openapi_document(self.state.prefix))


def _json_body(handler: GenesisHandler) -> dict[str, Any]:
    try:
        body = json.loads(handler.request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        handler.fail(400, "bad-body", "The body must be a JSON object.", "denied")
    assert isinstance(body, dict)
    return body


class RunsHandler(GenesisHandler):
    """``POST /api/runs``: run a challenge pipeline for a vetted caller cleared for its inputs."""

    event_type = "run.create"

    async def post(self) -> None:
        body = _json_body(self)
        challenge = body.get("challenge")
        parameters = body.get("parameters", {})
        if not isinstance(challenge, str) or not isinstance(parameters, dict):
            self.fail(
                400,
                "bad-body",
                "Give 'challenge' (a challenge id) and 'parameters' (an object).",
                "denied",
            )
        assert self.identity is not None
        if not (self.identity.vetted or self.identity.admin):
            self.fail(403, "forbidden", f"{self.identity.name} is not vetted; runs need vetting.",
                      "denied")  # fmt: skip
        self.check_challenge(challenge)
        from genesis_lab import pipelines

        try:
            as_caller = self.state.settings.model_copy(update={"user": self.identity.name})
            result = await self.state.run_in_thread(
                pipelines.run, challenge, parameters, settings=as_caller
            )
        except ParameterError as exc:
            self.fail(400, "bad-parameter", str(exc), "denied")
        except GenesisError as exc:
            self.fail(422, "run-failed", str(exc), "error")
        from genesis_lab.pipelines.runner import describe

        self.audit("success", f"run of {challenge}")
        self.send_json(describe(result), 201)


class SchedulesHandler(GenesisHandler):
    """``GET/POST /api/schedules``: the caller's pipeline schedules (admins: everyone's)."""

    event_type = "schedule.list"

    def _book(self):
        from genesis_lab.pipelines.schedules import ScheduleBook

        return ScheduleBook(self.state.settings)

    async def get(self) -> None:
        assert self.identity is not None
        items = [s.as_dict() for s in await self.state.run_in_thread(self._book().list)]
        if not self.identity.admin:
            items = [s for s in items if s.get("owner") == self.identity.name]
        self.audit("success", f"{len(items)} schedules")
        self.send_json({"count": len(items), "schedules": items})

    async def post(self) -> None:
        self.event_type = "schedule.create"
        body = _json_body(self)
        assert self.identity is not None
        allowed = {"challenge", "cron", "parameters", "allocation", "notify"}
        types = {
            "challenge": str,
            "cron": str,
            "parameters": dict,
            "allocation": str,
            "notify": str,
        }
        bad = [k for k in body if k not in allowed or not isinstance(body[k], types[k])]
        if bad or "challenge" not in body or "cron" not in body:
            self.fail(
                400,
                "bad-schedule",
                "Give 'challenge' and 'cron' (strings), and optionally 'parameters' (object), "
                f"'allocation' and 'notify' (strings); not valid here: {', '.join(sorted(bad))}.",
                "denied",
            )
        if not (self.identity.vetted or self.identity.admin):
            self.fail(403, "forbidden", f"{self.identity.name} is not vetted.", "denied")
        self.check_challenge(body["challenge"])
        try:
            created = await self.state.run_in_thread(
                self._book().add, owner=self.identity.name, **body
            )
        except (GenesisError, ValueError) as exc:
            self.fail(400, "bad-schedule", str(exc), "denied")
        self.dataset_id = None
        self.audit("success", f"schedule {created.id} created", schedule=created.id)
        self.send_json(created.as_dict(), 201)


class DatasetsHandler(GenesisHandler):
    """``PUT /api/datasets/{domain}/{name}``: register a dataset a session made (``save_dataset``
    in a hub session) into the service's own data root and catalog, under a marking the caller
    holds. An id already in the catalog is refused alike whether or not the caller may see it."""

    event_type = "dataset.register"

    async def put(self, domain: str, name: str) -> None:
        self.dataset_id = dataset_id = f"{domain}/{name}"
        limit = int(self.state.settings.service.get("max_upload_bytes", 64 << 20))
        if len(self.request.body) > limit:
            self.fail(413, "too-large", f"A registration may carry at most {limit} bytes "
                      "(service.max_upload_bytes); save large data on the data root instead.",
                      "denied")  # fmt: skip
        body = _json_body(self)
        identity = self.identity
        assert identity is not None
        if not (identity.vetted or identity.admin):
            self.fail(403, "forbidden", f"{identity.name} is not vetted; registering needs "
                      "vetting.", "denied")  # fmt: skip
        marking = body.get("marking", "public")
        if marking not in MARKINGS:
            self.fail(400, "bad-parameter", f"marking={marking!r} is unknown; allowed values: "
                      f"{', '.join(MARKINGS)}", "denied")  # fmt: skip
        if not identity.is_cleared(marking):
            self.fail(403, "forbidden", f"{identity.name} does not hold the {marking} clearance "
                      "and could not read the dataset back; register it under a marking you "
                      "hold.", "denied")  # fmt: skip
        if body.get("overwrite") and not identity.admin:
            self.fail(403, "forbidden", "Only an admin may replace a registered dataset; "
                      "register a new version under another name.", "denied")  # fmt: skip
        if dataset_id in self.state.catalog().entries and not body.get("overwrite"):
            self.fail(409, "taken", f"The id {dataset_id!r} cannot be registered: it is taken "
                      "or reserved. Choose another name.", "denied")  # fmt: skip
        from genesis_lab.data.register import register_from_request

        try:
            await self.state.run_in_thread(register_from_request, dataset_id, body, identity.name)
        except ParameterError as exc:
            self.fail(400, "bad-parameter", str(exc), "denied")
        except GenesisError as exc:  # the metadata did not make a valid entry: the caller's to fix
            self.fail(422, "not-registered", str(exc), "denied")
        self.state.reload_catalog()
        entry, decision = self.lookup(dataset_id)
        self.audit("success", f"registered by {identity.name} as {marking}")
        self.send_json(entry_view(entry, decision, self.state.store_of(entry), self.base_url), 201)


class MetricsHandler(GenesisHandler):
    """``GET /metrics``: the service's Prometheus metrics, for admins and ``read:metrics``."""

    event_type = "metrics.read"
    serves_during_audit_fault = True

    def get(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

        model = self.hub_model or {}
        if not (model.get("admin") or "read:metrics" in model.get("scopes", [])):
            self.fail(403, "forbidden", "Metrics need an admin's token or the read:metrics "
                      "scope.", "denied")  # fmt: skip
        self.audit("success", "metrics")
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))


_AGENT_TEXT_FIELDS = {"tool": 64, "client": 200, "token_note": 200, "reason": 500}
"""Text fields of an agent audit record and their longest length."""


class AgentAuditHandler(GenesisHandler):
    """``POST /api/audit/agent``: one record of an AI agent's tool call, in the caller's name.

    The MCP endpoint of a session cannot write the audit log; it posts here with the session's
    token. The identity recorded is the authenticated caller's, never one from the body.
    """

    event_type = "agent.tool"
    token_cache_seconds = 60.0
    """The hub's answer for the caller's token is reused this long (see service.auth): every
    agent tool call posts here before its answer, and nothing here depends on clearances."""

    async def post(self) -> None:
        from genesis_lab.access.audit import OUTCOMES

        body = _json_body(self)
        unknown = sorted(set(body) - {*_AGENT_TEXT_FIELDS, "arguments_sha256", "outcome"})
        digest = body.get("arguments_sha256")
        outcome = body.get("outcome")
        bad = [f"unknown field {unknown[0]!r}"] if unknown else []
        for name, limit in _AGENT_TEXT_FIELDS.items():
            value = body.get(name, "")
            if not isinstance(value, str) or len(value) > limit:
                bad.append(f"'{name}' must be text of at most {limit} characters")
        if not (
            isinstance(digest, str) and len(digest) == 64 and set(digest) <= set("0123456789abcdef")
        ):
            bad.append("'arguments_sha256' must be 64 lowercase hex digits")
        if outcome not in OUTCOMES:
            bad.append(f"'outcome' must be one of {', '.join(OUTCOMES)}")
        if not body.get("tool"):
            bad.append("'tool' is required")
        if bad:
            self.fail(400, "bad-body", "; ".join(bad), "denied")
        AGENT_CALLS.labels(body["tool"] if body["tool"] in AGENT_TOOLS else "other", outcome).inc()
        await self.audit_in_thread(
            outcome,
            body.get("reason", ""),
            tool=body["tool"],
            arguments_sha256=digest,
            client=body.get("client", ""),
            token_note=body.get("token_note", ""),
        )
        self.send_json({"recorded": True}, 201)


class NoticeAuditHandler(GenesisHandler):
    """``POST /api/audit/notice``: the caller acknowledged the system-use notice (AC-8) at login.

    The hub posts it right after a login, with a short-lived token of the user who signed in;
    the identity recorded is that authenticated caller, never one from the body.
    """

    event_type = "notice.acknowledged"

    async def post(self) -> None:
        await self.audit_in_thread("success", "system-use notice acknowledged at login")
        self.send_json({"recorded": True}, 201)


class NotFoundHandler(GenesisHandler):
    """Any other path under the service: 404, audited."""

    event_type = "service.unknown-path"

    def prepare(self):  # type: ignore[override]
        return self._not_found()

    async def _not_found(self) -> None:
        await GenesisHandler.prepare(self)
        self.fail(404, "not-found", "No such endpoint.", "not-found")


ID = r"(?P<domain>[a-z0-9][a-z0-9-]*)/(?P<name>[a-z0-9][a-z0-9._-]*)"

HANDLERS: list[tuple[str, type[GenesisHandler]]] = [
    (r"api/catalog", CatalogHandler),
    (rf"api/catalog/{ID}", EntryHandler),
    (rf"api/data/{ID}/?", DataHandler),
    (rf"api/data/{ID}/(?P<path>.+)", DataHandler),
    (r"api/dcat", DcatHandler),
    (r"api/openapi\.json", OpenAPIHandler),
    (r"api/runs", RunsHandler),
    (r"api/schedules", SchedulesHandler),
    (rf"api/datasets/{ID}", DatasetsHandler),
    (r"api/audit/agent", AgentAuditHandler),
    (r"api/audit/notice", NoticeAuditHandler),
    (r"metrics", MetricsHandler),
]
