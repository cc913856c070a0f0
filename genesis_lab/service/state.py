"""What the service's handlers share: settings, the hub client, the audit log, the catalog.

The catalog is re-read from its sources at most every ``service.catalog_ttl`` seconds (default 5).
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
        self.audit = audit or AuditLog(default_log_path(settings))
        assert settings.data_root is not None
        self.data_root: Path = settings.data_root
        prefix = settings.service_prefix
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.catalog_ttl = float(settings.service.get("catalog_ttl", 5))
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0
        self._stores: dict[str, Path | None] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="genesis-runs")
        self._audit_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="genesis-audit")

    def catalog(self) -> Catalog:
        """The local catalog (never the remote one: the service *is* the remote)."""
        now = time.monotonic()
        if self._catalog is None or now - self._loaded_at > self.catalog_ttl:
            self._catalog = load_catalog(self.settings, warn=False)
            self._loaded_at = now
            self._stores = {}
        return self._catalog

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
        """Append an audit record from a worker thread; returns once it is on disk."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._audit_pool, functools.partial(self.audit.append, **record))

    async def run_in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
