"""Append-only usage ledger: core-hours per allocation and user, one JSON line per record.

Lives at ``settings.state_dir / "usage.jsonl"``; each append is locked, flushed and fsynced.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from genesis_lab.errors import ComputeError

__all__ = ["Ledger", "UsageRecord", "get_ledger", "used_core_hours"]

Kind = Literal["session", "cluster", "pipeline"]
Source = Literal["sacct", "worker-lifetime", "job-lifetime"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _iso(t: float | str) -> str:
    if isinstance(t, str):
        return t
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class UsageRecord:
    """One charge: ``cores`` used from ``start`` to ``end`` by a job, session or pipeline."""

    allocation: str
    user: str
    kind: str
    ref: str
    cores: int
    start: str
    end: str
    core_hours: float
    source: str
    time: str = field(default_factory=_now)

    @classmethod
    def from_times(
        cls,
        *,
        allocation: str,
        user: str,
        kind: Kind,
        ref: str,
        cores: int,
        start: float,
        end: float,
        source: Source,
    ) -> UsageRecord:
        """A record whose core-hours are ``cores * (end - start)`` (epoch seconds).

        >>> UsageRecord.from_times(allocation="a", user="u", kind="cluster", ref="1",
        ...     cores=2, start=0, end=1800, source="worker-lifetime").core_hours
        1.0
        """
        if end < start:
            raise ComputeError(f"Usage record {ref!r} ends before it starts.")
        return cls(
            allocation=allocation,
            user=user,
            kind=kind,
            ref=str(ref),
            cores=int(cores),
            start=_iso(start),
            end=_iso(end),
            core_hours=round(cores * (end - start) / 3600.0, 6),
            source=source,
        )


class Ledger:
    """The usage ledger at ``path`` (JSON lines, append-only).

    >>> import tempfile, pathlib
    >>> led = Ledger(pathlib.Path(tempfile.mkdtemp()) / "usage.jsonl")
    >>> _ = led.record(UsageRecord.from_times(allocation="a", user="u", kind="cluster",
    ...     ref="7", cores=4, start=0, end=900, source="worker-lifetime"))
    >>> led.used_core_hours("a")
    1.0
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def record(self, rec: UsageRecord) -> UsageRecord:
        """Append ``rec`` durably (exclusive lock, flush, fsync)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(rec), sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return rec

    def records(
        self, allocation: str | None = None, user: str | None = None
    ) -> Iterator[UsageRecord]:
        """Records, oldest first, optionally only of one allocation and/or user."""
        if not self.path.exists():
            return
        with self.path.open() as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)
            lines = f.readlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = UsageRecord(**json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ComputeError(
                    f"The usage ledger {self.path} has an unreadable line {n}: {exc}"
                ) from None
            if allocation is not None and rec.allocation != allocation:
                continue
            if user is not None and rec.user != user:
                continue
            yield rec

    def used_core_hours(self, allocation: str, user: str | None = None) -> float:
        """Core-hours charged to ``allocation`` (by ``user`` if given)."""
        return round(float(sum(r.core_hours for r in self.records(allocation, user))), 6)

    def summary(self) -> dict[tuple[str, str], float]:
        """Core-hours per (allocation, user)."""
        out: dict[tuple[str, str], float] = {}
        for r in self.records():
            key = (r.allocation, r.user)
            out[key] = round(out.get(key, 0.0) + r.core_hours, 6)
        return out


def get_ledger() -> Ledger:
    """The ledger of this site: ``get_settings().state_dir / "usage.jsonl"``.

    >>> get_ledger().path.name
    'usage.jsonl'
    """
    from genesis_lab.settings import get_settings

    state_dir = get_settings().state_dir
    assert state_dir is not None
    return Ledger(state_dir / "usage.jsonl")


def used_core_hours(allocation_id: str, user: str | None = None) -> float:
    """Core-hours charged to an allocation so far (by one user if given).

    >>> used_core_hours("no-such-allocation")
    0.0
    """
    return get_ledger().used_core_hours(allocation_id, user)
