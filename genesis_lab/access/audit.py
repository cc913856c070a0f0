"""The append-only, hash-chained audit log of every access and denial (NIST SP 800-53 AU-3 fields).

Guarantee: each record carries ``seq``, ``prev_hash`` and ``hash`` (sha256 over its canonical
JSON), and a head file beside the log holds the count, byte size and last hash after every append.
:func:`verify` therefore detects an edited, reordered, inserted or deleted record, and a log cut
short (last lines deleted) or removed. Someone who may write both files can recompute every hash;
against that (AU-9(3)) the service signs checkpoints (:mod:`genesis_lab.access.checkpoints`) that a
witness its account cannot write keeps, and :func:`verify` given the witness's folder checks the
log against each of them: a log deleted, cut or rewritten before the last checkpoint no longer
matches. Each record is fdatasync'ed before the request is answered; the head is replaced
atomically but not synced, so after a power cut it may lag the log by the record being written
(accepted by :func:`verify`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.access.checkpoints import (
    Checkpoint,
    WitnessBook,
    signature_ok,
    unsafe_ancestors,
)
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
    "fault_log_path",
    "hash_at",
    "query",
    "record_hash",
    "reset_log",
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

    def __init__(self, path: Path, *, sole_writer: bool = False):
        self.path = Path(path)
        self.sole_writer = sole_writer
        self.written: Written | None = None
        """What this object last wrote (or found at :meth:`adopt`): count, size, hash, inode."""

    def adopt(self, report: VerifyReport) -> None:
        """Take a verified log's state as what this (sole) writer last wrote."""
        st = self.path.stat() if self.path.exists() else None
        size = st.st_size if st else 0
        self.written = Written(report.records, size, report.head_hash, st.st_ino if st else None)

    def check_tail(self) -> Written | None:
        """Raise :class:`AuditError` unless the file ends as this writer left it: same inode, same
        size, and its last record is the one written last (a few syscalls, no full read); return
        that state (taken under the writers' lock, so a checkpoint of it is exact)."""
        with open(_lock_path(self.path), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._check_tail()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return self.written

    def _check_tail(self) -> None:
        w = self.written
        if w is None:
            return
        st = self.path.stat() if self.path.exists() else None
        found = (st.st_ino if st else None, st.st_size if st else 0)
        if found != (w.inode, w.size) and not (w.inode is None and found[1] == 0):
            raise AuditError(
                f"The audit log {self.path} changed outside the service: it held {w.count} "
                f"records ({w.size} bytes, inode {w.inode}) after the service's last write, now "
                f"{found[1]} bytes, inode {found[0]}"
            )
        if w.count and _last_record(self.path).get("hash") != w.hash:
            raise AuditError(
                f"The audit log {self.path}: its last record is not the one the service wrote "
                f"last (seq {w.count - 1}, hash {w.hash})"
            )

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
                if self.sole_writer and self.written is not None:
                    self._check_own_tail(seq, prev)
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
                    st = os.fstat(fd)
                finally:
                    os.close(fd)
                self._write_head({"count": seq, "size": st.st_size, "hash": prev})
                self.written = Written(seq, st.st_size, prev, st.st_ino)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return records

    def _check_own_tail(self, seq: int, prev: str) -> None:
        w = self.written
        assert w is not None
        st = self.path.stat() if self.path.exists() else None
        if (seq, prev) != (w.count, w.hash) or (st.st_ino if st else None) != w.inode:
            raise AuditError(
                f"The audit log {self.path} changed outside the service: after its last write "
                f"it held {w.count} records ending in {w.hash[:12]}…, now its head says {seq} "
                f"records ending in {prev[:12]}… (or the file was replaced)"
            )

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
        """Every complete record, in order (lines that are not JSON raise :class:`AuditError`).

        A last line without its newline is a record another writer is appending right now; it is
        left for the next read, never parsed half-written.
        """
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    return
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


@dataclass(frozen=True)
class Written:
    """The end of the log as its writer left it."""

    count: int
    size: int
    hash: str
    inode: int | None


@dataclass
class VerifyReport:
    """The result of :func:`verify`: ``ok`` and, if not, each problem found (each with ``seq``,
    the first record it puts in doubt) and ``first_bad_seq``, the smallest of them."""

    path: str
    ok: bool
    records: int
    head_hash: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    first_bad_seq: int | None = None
    epoch: int | None = None
    checkpoints: int = 0
    checkpointed_seq: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify(path: Path | None = None, *, witness: Path | None = None) -> VerifyReport:
    """Check the chain of every record and the head file, and, given the witness's folder, the
    log against every checkpoint of the witness's current epoch; report each break found.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
    >>> _ = AuditLog(p).append(event_type="x", where="w", source="s", outcome="success", identity="i")
    >>> verify(p).ok
    True
    """
    path = Path(path) if path is not None else default_log_path()
    problems: list[dict[str, Any]] = []
    notes: list[str] = []
    anchors, epoch = _witness_checkpoints(witness, problems, notes)
    last_good_anchor = 0
    prev = GENESIS_HASH
    count = 0
    size = 0
    head, head_problem, limit = _snapshot(path)
    if path.exists():
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                if limit is not None and size >= limit:
                    break
                size += len(raw)
                try:
                    record = json.loads(raw)
                    if not isinstance(record, dict):
                        raise ValueError("not an object")
                except ValueError:
                    problems.append({"line": number, "seq": count, "problem": "not a JSON record"})
                    prev = "?"
                    count += 1
                    continue
                if record.get("seq") != count:
                    problems.append(
                        {
                            "line": number,
                            "seq": count,
                            "problem": f"seq is {record.get('seq')!r}, expected {count} "
                            "(a record was deleted, inserted or moved)",
                        }
                    )
                if record.get("prev_hash") != prev and prev != "?":
                    problems.append(
                        {
                            "line": number,
                            "seq": count,
                            "problem": "prev_hash does not match the previous record "
                            "(a record before it was edited, deleted or moved)",
                        }
                    )
                if record.get("hash") != record_hash(record):
                    problems.append(
                        {
                            "line": number,
                            "seq": count,
                            "problem": "hash does not match the record (edited)",
                        }
                    )
                prev = str(record.get("hash"))
                count += 1
                anchored = anchors.get(count)
                if anchored is not None:
                    if anchored.head == prev:
                        last_good_anchor = count
                    else:
                        problems.append(_anchor_problem(number, last_good_anchor, anchored, prev))
    missing = [cp for seq, cp in sorted(anchors.items()) if seq > count]
    if missing:
        cp = missing[-1]
        problems.append(
            {
                "line": None,
                "seq": last_good_anchor,
                "witness": True,
                "problem": f"the witness holds a checkpoint of {cp.seq} records (head "
                f"{cp.head[:12]}…, {cp.time}) but the log holds {count}: records were deleted "
                f"(the log was cut short or removed); the records from seq {last_good_anchor} "
                "on cannot be vouched for",
            }
        )
    if head_problem:
        problems.append({"line": None, "seq": count, "problem": head_problem})
    if head is None and count:
        problems.append({"line": None, "seq": count, "problem": "the head file is missing"})
    elif head is not None:
        if head["count"] > count or head["size"] > size:
            problems.append(
                {
                    "line": None,
                    "seq": count,
                    "problem": f"the log holds {count} records ({size} bytes) but the head "
                    f"records {head['count']} ({head['size']} bytes): records were cut off the end",
                }
            )
        elif head["count"] == count and head["hash"] != prev:
            problems.append(
                {
                    "line": None,
                    "seq": max(count - 1, 0),
                    "problem": "the last record differs from the head's hash",
                }
            )
        elif head["count"] < count - 1:
            problems.append(
                {
                    "line": None,
                    "seq": head["count"],
                    "problem": f"the log holds {count} records but the head only "
                    f"{head['count']}: records were added outside the audit writer",
                }
            )
    # where the chain or head breaks pinpoints the record; the witness only bounds a recomputed
    # chain (from the last checkpoint it confirms)
    located = [p["seq"] for p in problems if p.get("seq") is not None and not p.get("witness")]
    seqs = located or [p["seq"] for p in problems if p.get("seq") is not None]
    return VerifyReport(
        str(path),
        not problems,
        count,
        prev,
        problems,
        first_bad_seq=min(seqs) if seqs else None,
        epoch=epoch,
        checkpoints=len(anchors),
        checkpointed_seq=max(anchors, default=0),
        notes=notes,
    )


def _snapshot(log: Path) -> tuple[dict[str, Any] | None, str, int | None]:
    """The head, a problem reading it, and the log's size, taken together under the writers' lock
    when it can be had (so records appended while :func:`verify` reads are left for the next run
    instead of looking like a cut or a torn line); without the lock, the size is not bounded."""
    with contextlib.ExitStack() as stack:
        limit = None
        with contextlib.suppress(OSError):
            lock = stack.enter_context(open(_lock_path(log), "rb"))
            fcntl.flock(lock, fcntl.LOCK_SH)
            limit = log.stat().st_size if log.exists() else 0
        try:
            return _read_head(log), "", limit
        except AuditError as exc:
            return None, str(exc), limit


def _anchor_problem(line: int, good: int, cp: Checkpoint, found: str) -> dict[str, Any]:
    return {
        "line": line,
        "seq": good,
        "witness": True,
        "problem": f"the witness's checkpoint of {cp.seq} records ({cp.time}) ends in "
        f"{cp.head[:12]}…, the log's record {cp.seq - 1} has {found[:12]}…: a record from seq "
        f"{good} to {cp.seq - 1} was edited, deleted, inserted or moved and the chain recomputed",
    }


def _witness_checkpoints(
    folder: Path | None, problems: list[dict[str, Any]], notes: list[str]
) -> tuple[dict[int, Checkpoint], int | None]:
    """The checkpoints of the witness's current epoch by seq, and the epoch."""
    if folder is None:
        return {}, None
    book = WitnessBook(folder)
    if not book.path.exists():
        notes.append(
            f"no witness checkpoints at {book.path}: the chain alone cannot show a log that was "
            "removed or rewritten as a whole"
        )
        return {}, None
    for why in unsafe_ancestors(book.path):
        problems.append({"line": None, "seq": None, "problem": f"witness book unsafe: {why}"})
    pinned = book.pinned_key()
    anchors: dict[int, Checkpoint] = {}
    epoch = 0
    for number, entry in enumerate(book.entries(), 1):
        kind = entry.get("type")
        if kind == "reset":
            epoch, anchors = int(entry.get("epoch", epoch + 1)), {}
            continue
        try:
            cp = Checkpoint.from_dict(entry) if kind == "checkpoint" else None
        except AuditError as exc:
            cp, kind = None, str(exc)
        if cp is None:
            problems.append(
                {"line": None, "seq": None, "problem": f"{book.path}:{number}: bad entry ({kind})"}
            )
        elif not signature_ok(cp, pinned):
            problems.append(
                {
                    "line": None,
                    "seq": None,
                    "problem": f"{book.path}:{number}: checkpoint seq={cp.seq} is not signed by "
                    f"the pinned service key {pinned}",
                }
            )
        elif cp.epoch == epoch:
            anchors[cp.seq] = cp
    return anchors, epoch


def hash_at(path: Path, seq: int) -> str | None:
    """The ``hash`` of record ``seq`` of the log at ``path`` (None if it has no such record)."""
    if seq < 0 or not path.exists():
        return None
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh):
            if number == seq:
                try:
                    return str(json.loads(raw).get("hash"))
                except (ValueError, AttributeError):
                    return None
    return None


def fault_log_path(path: Path, when: dt.datetime | None = None) -> Path:
    """Where the service writes records once ``path`` failed verification (the failed log is kept
    untouched as evidence).

    >>> fault_log_path(Path("/a/audit.jsonl"), dt.datetime(2026, 1, 2, 3, 4, 5)).name
    'audit-after-fault-20260102T030405.jsonl'
    """
    when = when or dt.datetime.now(dt.UTC)
    return path.with_name(f"{path.stem}-after-fault-{when:%Y%m%dT%H%M%S}{path.suffix}")


def reset_log(path: Path, witness: Path, *, reason: str, who: str) -> dict[str, Any]:
    """Move the log, its head and the logs written after a fault into a new evidence folder in
    the witness's folder, then start a new epoch at the witness; returns what was done.

    Only the witness's owner (root in production) can do this: the service's account cannot
    write the witness's folder.
    """
    if not reason.strip():
        raise ValueError("reason is empty: say why the log is reset (it is kept with the evidence)")
    book = WitnessBook(witness)
    if not os.access(witness, os.W_OK):
        raise AuditError(
            f"{witness} is not writable by this account: run `genesis-lab audit reset` as the "
            "witness's owner (root when the hub runs as root)"
        )
    report = verify(path, witness=witness)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    evidence = witness / f"evidence-{stamp}"
    evidence.mkdir(mode=0o700)
    atomic_write_text(evidence / "verify.json", json.dumps(report.to_dict(), indent=1) + "\n")
    moved = []
    pattern = f"{path.stem}-after-fault-*{path.suffix}"
    for log in [path, *sorted(path.parent.glob(pattern))]:
        for part in (log, _head_path(log)):
            if part.exists():
                shutil.move(part, evidence / part.name)
                moved.append(part.name)
    epoch = book.reset(reason=reason, evidence=str(evidence), who=who)
    return {"epoch": epoch, "evidence": str(evidence), "moved": moved, "report": report.to_dict()}


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
