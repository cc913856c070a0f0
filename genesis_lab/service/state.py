"""What the service's handlers share: settings, the hub client, the audit log, the catalog.

The catalog is re-read when one of its site files is added, removed or edited; the files are
looked at (``stat`` only) at most every ``service.catalog_check_interval`` seconds (default 1).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from genesis_lab.access.audit import AuditLog, default_log_path
from genesis_lab.catalog.catalog import Catalog, load_catalog
from genesis_lab.catalog.entry import Entry
from genesis_lab.catalog.sources import sources_fingerprint
from genesis_lab.service.audit_guard import AuditGuard
from genesis_lab.service.store import dataset_store, model_store
from genesis_lab.settings import Settings

__all__ = ["ServiceState"]


class ServiceState:
    """Shared state of one service process.

    >>> ServiceState.__name__
    'ServiceState'
    """

    def __init__(self, settings: Settings, hub_auth: Any, *, audit: AuditLog | None = None):
        self.settings = settings
        self.hub_auth = hub_auth
        self.guard = AuditGuard(
            settings, audit or AuditLog(default_log_path(settings), sole_writer=True)
        )
        assert settings.data_root is not None
        self.data_root: Path = settings.data_root
        prefix = settings.service_prefix
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.catalog_check_interval = float(settings.service.get("catalog_check_interval", 1))
        self._catalog: Catalog | None = None
        self._checked_at = 0.0
        self._fingerprint: tuple = ()
        self._stores: dict[str, Path | None] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="genesis-runs")
        self._data_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="genesis-data")
        self._audit_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="genesis-audit")
        self._audit_queue: list[tuple[dict[str, Any], asyncio.Future]] = []
        self._audit_writer: asyncio.Future | None = None

    @property
    def audit(self) -> AuditLog:
        """The log records go to now (after a fault: a log of their own, see :class:`AuditGuard`)."""
        return self.guard.current

    @property
    def audit_fault(self) -> str | None:
        """Why the audit log failed verification, or None; data is refused while it is set."""
        return self.guard.fault

    def record_audit(self, record: dict[str, Any]) -> None:
        """Append one record now (on the event loop)."""
        self.guard.append_many([record])
        self.guard.note_appended()

    def catalog(self) -> Catalog:
        """The local catalog (never the remote one: the service *is* the remote)."""
        now = time.monotonic()
        if self._catalog is not None and now - self._checked_at < self.catalog_check_interval:
            return self._catalog
        self._checked_at = now
        fingerprint = sources_fingerprint(self.settings)
        if self._catalog is None or fingerprint != self._fingerprint:
            catalog = load_catalog(self.settings, warn=False)
            if self.settings.single_identity:
                catalog = Catalog.from_entries(
                    [e for e in catalog if e.marking == "public"], catalog.errors
                )
            self._catalog = catalog
            self._fingerprint = fingerprint
            self._stores = {}
        return self._catalog

    def reload_catalog(self) -> Catalog:
        """Read the catalog again now (after the service itself wrote a catalog file)."""
        self._checked_at = 0.0
        self._fingerprint = ()
        return self.catalog()

    def store_of(self, entry: Entry) -> Path | None:
        """The folder or file the service serves for ``entry`` (None: nothing to serve)."""
        if entry.id not in self._stores:
            if entry.kind == "dataset":
                self._stores[entry.id] = dataset_store(entry, self.data_root)
            elif entry.kind == "model" and entry.options.get("path"):
                self._stores[entry.id] = model_store(entry, self.data_root)
            else:
                self._stores[entry.id] = None
        return self._stores[entry.id]

    async def append_audit(self, record: dict[str, Any]) -> None:
        """Append an audit record from a worker thread; returns once it is on disk.

        Records that arrive while a write is under way go to disk together in the next one
        (group commit: one ``fdatasync`` for all of them, ~4 ms each on this disk otherwise).
        """
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._audit_queue.append((record, done))
        if self._audit_writer is None or self._audit_writer.done():
            self._audit_writer = asyncio.ensure_future(self._write_audit_queue())
        await done

    async def _write_audit_queue(self) -> None:
        loop = asyncio.get_running_loop()
        while self._audit_queue:  # the task ends in the same step as it finds the queue empty
            batch, self._audit_queue = self._audit_queue, []
            try:
                await loop.run_in_executor(
                    self._audit_pool, self.guard.append_many, [r for r, _ in batch]
                )
            except Exception as exc:  # every waiter fails closed with the cause
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
                self.guard.note_appended()

    async def run_data_io(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking data I/O (a file sent to a client) in the data threads."""
        return await asyncio.get_running_loop().run_in_executor(self._data_pool, fn, *args)

    async def run_in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
