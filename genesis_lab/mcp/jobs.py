"""Long agent work (sweeps, campaigns, challenge runs) as jobs with handles that outlive the server.

Each job is one JSON file under the user's state dir (``<state_dir>/mcp-jobs/<user>/``), replaced
atomically on every change, so a restarted server finds every handle; a job the previous server
left running is started again (a campaign resumes from its trial store, sweeps and challenge runs
from their caches).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genesis_lab.fileio import atomic_write_text

__all__ = ["FINAL_STATES", "Job", "JobStore", "Work"]

FINAL_STATES = ("done", "failed", "rejected", "cancelled")
"""States a job never leaves."""

Progress = Callable[[float, float | None, str], None]
Work = Callable[["Job", Progress, threading.Event], dict[str, Any]]
"""What a job runs: ``work(job, progress, cancelled) -> result``."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Job(dict):
    """A job record: ``handle``, ``tool``, ``arguments``, ``state``, ``progress``, ``result``..."""

    @property
    def handle(self) -> str:
        return self["handle"]


class JobStore:
    """The jobs of one user, one atomic JSON file each.

    >>> import tempfile, pathlib
    >>> store = JobStore(pathlib.Path(tempfile.mkdtemp()))
    >>> job = store.create("sweep_start", {"simulator": "x/y"}, state="queued")
    >>> store.get(job.handle)["state"]
    'queued'
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.RLock()

    def _path(self, handle: str) -> Path:
        return self.folder / f"{handle}.json"

    def create(self, tool: str, arguments: dict[str, Any], *, state: str, **fields: Any) -> Job:
        prefix = tool.split("_")[0]
        handle = f"{prefix}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        job = Job(
            handle=handle,
            tool=tool,
            arguments=arguments,
            state=state,
            created=_now(),
            updated=_now(),
            progress=0.0,
            message="",
            result=None,
            error=None,
        )
        job.update({"total": None, **fields})
        self.save(job)
        return job

    def save(self, job: Job) -> None:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            job["updated"] = _now()
            atomic_write_text(self._path(job.handle), json.dumps(job, default=str), mode=0o600)

    def get(self, handle: str) -> Job | None:
        path = self._path(handle)
        if "/" in handle or os.sep in handle or not path.is_file():
            return None
        try:
            return Job(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None

    def update(self, job: Job, **fields: Any) -> Job:
        with self._lock:
            job.update(fields)
            self.save(job)
        return job

    def find(self, **match: Any) -> list[Job]:
        """Jobs whose fields equal ``match``, oldest first."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            job = self.get(path.stem)
            if job is not None and all(job.get(k) == v for k, v in match.items()):
                out.append(job)
        return sorted(out, key=lambda j: j["created"])
