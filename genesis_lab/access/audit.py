"""The append-only, hash-chained audit log of every access and denial (NIST SP 800-53 AU-3 fields).

Guarantee: each record carries ``seq``, ``prev_hash`` and ``hash`` (sha256 over its canonical
JSON), and a head file beside the log holds the count, byte size and last hash after every append.
:func:`verify` therefore detects an edited, reordered, inserted or deleted record, and a log cut
short (last lines deleted) or removed. It does not stop someone who may write both files *and*
recomputes every hash: copy the head's hash somewhere they cannot write (``genesis-lab audit
verify --json`` prints it) to anchor the chain against that. Each record is fdatasync'ed before
the request is answered; the head is replaced atomically but not synced, so after a power cut it
may lag the log by the record being written (accepted by :func:`verify`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.errors import AuditError
from genesis_lab.fileio import atomic_write_text
from genesis_lab.settings import Settings, get_settings

__all__ = [
    "GENESIS_HASH",
    "OUTCOMES",
    "AuditLog",
    "VerifyReport",
    "audit_log",
    "default_log_path",
    "query",
    "record_hash",
    "verify",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first record."""

OUTCOMES: tuple[str, ...] = ("success", "denied", "not-found", "unauthenticated", "error")

AU3_FIELDS: tuple[str, ...] = (
    "event_type",
    "time",
    "where",
    "source",
    "outcome",
    "identity",
    "dataset",
    "reason",
)


def default_log_path(settings: Settings | None = None) -> Path:
    """``<state_dir>/audit/audit.jsonl`` for the current settings.

    >>> default_log_path().name
    'audit.jsonl'
    """
    settings = settings or get_settings()
    assert settings.state_dir is not None
    return settings.state_dir / "audit" / "audit.jsonl"


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    """sha256 (hex) of a record's canonical JSON, without its own ``hash`` field.

    >>> len(record_hash({"seq": 0}))
    64
    """
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def _lock_path(log: Path) -> Path:
    return log.with_name(log.name + ".lock")


class AuditLog:
    """One audit log file; :meth:`append` is safe across threads and processes.

    >>> import tempfile, pathlib
    >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
    >>> log.append(event_type="catalog.list", where="/api/catalog", source="127.0.0.1",
    ...     outcome="success", identity="ada")["seq"]
    0
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(
        self,
        *,
        event_type: str,
        where: str,
        source: str,
        outcome: str,
        identity: str,
        dataset: str | None = None,
        reason: str = "",
        **extra: Any,
    ) -> dict[str, Any]:
        """Append one record under an exclusive lock, fsync it, and return it.

        Raises :class:`AuditError` when the log is shorter than its head says (it was cut):
        the service then fails closed instead of writing over the evidence.
        """
        fields = dict(event_type=event_type, where=where, source=source, outcome=outcome,
                      identity=identity, dataset=dataset, reason=reason, **extra)  # fmt: skip
        return self.append_many([fields])[0]

    def append_many(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append several records (each with :meth:`append`'s fields) in order, chained, with one
        write and one ``fdatasync`` for all of them (a group commit); returns them.

        >>> import tempfile, pathlib
        >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
        >>> one = dict(event_type="data.read", where="/d", source="::1", outcome="success",
        ...            identity="ada")
        >>> [r["seq"] for r in log.append_many([one, one])], len(list(log.records()))
        ([0, 1], 2)
        """
        for item in items:
            outcome = item.get("outcome")
            if outcome not in OUTCOMES:
                raise ValueError(
                    f"outcome={outcome!r} is unknown. Allowed values: {', '.join(OUTCOMES)}"
                )
            missing = {"event_type", "where", "source", "identity"} - set(item)
            if missing:
                raise ValueError(f"an audit record needs {', '.join(sorted(missing))}")
        if not items:
            return []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(_lock_path(self.path), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                seq, prev = self._tail()
                records, lines = [], []
                for item in items:
                    fields = dict(item)
                    record: dict[str, Any] = {
                        "seq": seq,
                        "event_type": fields.pop("event_type"),
                        "time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                        "where": fields.pop("where"),
                        "source": fields.pop("source"),
                        "outcome": fields.pop("outcome"),
                        "identity": fields.pop("identity"),
                        "dataset": fields.pop("dataset", None),
                        "reason": fields.pop("reason", ""),
                        **fields,
                        "prev_hash": prev,
                    }
                    record["hash"] = prev = record_hash(record)
                    records.append(record)
                    lines.append(_canonical(record) + b"\n")
                    seq += 1
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    os.write(fd, b"".join(lines))
                    os.fdatasync(fd)  # the records are on disk before the requests are answered
                    size = os.fstat(fd).st_size
                finally:
                    os.close(fd)
                self._write_head({"count": seq, "size": size, "hash": prev})
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return records

    def _tail(self) -> tuple[int, str]:
        """(next seq, hash of the last record), from the head file when it matches the log."""
        head = _read_head(self.path)
        size = self.path.stat().st_size if self.path.exists() else 0
        if head is None:
            if size:
                raise AuditError(
                    f"The audit log {self.path} has records but its head file "
                    f"{_head_path(self.path)} is missing: it was tampered with. "
                    "Run `genesis-lab audit verify` and keep the log as evidence."
                )
            return 0, GENESIS_HASH
        if size == head["size"]:
            return head["count"], head["hash"]
        if size < head["size"]:
            raise AuditError(
                f"The audit log {self.path} is shorter ({size} bytes) than its head records "
                f"({head['size']} bytes): records were deleted. Run `genesis-lab audit verify`."
            )
        # Longer than the head: a writer died between appending and updating the head.
        last = _last_record(self.path)
        return int(last["seq"]) + 1, str(last["hash"])

    def _write_head(self, head: dict[str, Any]) -> None:
        # Atomic replace, not fsynced: after a power cut the head may lag the (fsynced) log;
        # verify() accepts a head one record behind, the trace of a writer that died mid-append.
        atomic_write_text(_head_path(self.path), json.dumps(head))

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, in order (lines that are not JSON raise :class:`AuditError`)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise AuditError(f"{self.path}:{number}: not a JSON record ({exc})") from None


def _read_head(log: Path) -> dict[str, Any] | None:
    path = _head_path(log)
    if not path.exists():
        return None
    try:
        head = json.loads(path.read_text())
        return {"count": int(head["count"]), "size": int(head["size"]), "hash": str(head["hash"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"The audit head file {path} is unreadable: {exc}") from None


def _last_record(log: Path) -> dict[str, Any]:
    with open(log, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        chunk = b""
        pos = end
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            chunk = fh.read(step) + chunk
            lines = chunk.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or pos == 0:
                return json.loads(lines[-1])
    raise AuditError(f"The audit log {log} is empty")


@dataclass
class VerifyReport:
    """The result of :func:`verify`: ``ok`` and, if not, each problem found."""

    path: str
    ok: bool
    records: int
    head_hash: str
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify(path: Path | None = None) -> VerifyReport:
    """Check the chain of every record and the head file; report each break found.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
    >>> _ = AuditLog(p).append(event_type="x", where="w", source="s", outcome="success", identity="i")
    >>> verify(p).ok
    True
    """
    path = Path(path) if path is not None else default_log_path()
    problems: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    count = 0
    size = 0
    if path.exists():
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                size += len(raw)
                try:
                    record = json.loads(raw)
                    if not isinstance(record, dict):
                        raise ValueError("not an object")
                except ValueError:
                    problems.append({"line": number, "problem": "not a JSON record"})
                    prev = "?"
                    count += 1
                    continue
                if record.get("seq") != count:
                    problems.append(
                        {
                            "line": number,
                            "problem": f"seq is {record.get('seq')!r}, expected {count} "
                            "(a record was deleted, inserted or moved)",
                        }
                    )
                if record.get("prev_hash") != prev and prev != "?":
                    problems.append(
                        {
                            "line": number,
                            "problem": "prev_hash does not match the previous record "
                            "(a record before it was edited, deleted or moved)",
                        }
                    )
                if record.get("hash") != record_hash(record):
                    problems.append(
                        {"line": number, "problem": "hash does not match the record (edited)"}
                    )
                prev = str(record.get("hash"))
                count += 1
    try:
        head = _read_head(path)
    except AuditError as exc:
        problems.append({"line": None, "problem": str(exc)})
        head = None
    if head is None and count:
        problems.append({"line": None, "problem": "the head file is missing"})
    elif head is not None:
        if head["count"] > count or head["size"] > size:
            problems.append(
                {
                    "line": None,
                    "problem": f"the log holds {count} records ({size} bytes) but the head "
                    f"records {head['count']} ({head['size']} bytes): records were cut off the end",
                }
            )
        elif head["count"] == count and head["hash"] != prev:
            problems.append(
                {"line": None, "problem": "the last record differs from the head's hash"}
            )
        elif head["count"] < count - 1:
            problems.append(
                {
                    "line": None,
                    "problem": f"the log holds {count} records but the head only "
                    f"{head['count']}: records were added outside the audit writer",
                }
            )
    return VerifyReport(str(path), not problems, count, prev, problems)


def query(
    path: Path | None = None,
    *,
    user: str | None = None,
    dataset: str | None = None,
    event_type: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Records matching every filter given, oldest first.

    >>> query(user="nobody-at-all")
    []
    """
    log = AuditLog(Path(path) if path is not None else default_log_path())
    out = []
    for record in log.records():
        if user is not None and record.get("identity") != user:
            continue
        if dataset is not None and record.get("dataset") != dataset:
            continue
        if event_type is not None and record.get("event_type") != event_type:
            continue
        if outcome is not None and record.get("outcome") != outcome:
            continue
        if since is not None or until is not None:
            when = dt.datetime.fromisoformat(record["time"])
            if since is not None and when < since:
                continue
            if until is not None and when > until:
                continue
        out.append(record)
    return out


def audit_log(settings: Settings | None = None) -> AuditLog:
    """The audit log of the current settings.

    >>> audit_log().path.name
    'audit.jsonl'
    """
    return AuditLog(default_log_path(settings))
