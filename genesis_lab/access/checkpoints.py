"""Signed checkpoints of the audit log, and the witness book that keeps them (NIST SP 800-53 AU-9(3)).

The service signs ``(epoch, seq, head, time)`` with an Ed25519 key only its account can read
(``seq``: records covered, ``head``: hash of record ``seq - 1``). A :class:`WitnessBook` in a
folder the service's account cannot write appends each checkpoint, refusing a bad signature, a
key other than the pinned one, a sequence number that goes backwards and a head that contradicts
an earlier checkpoint of the same sequence number. An epoch ends only by a ``reset`` entry, which
only the book's owner (root in production) writes, after moving the old log into the evidence.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from genesis_lab.errors import AuditError
from genesis_lab.fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "BOOK_NAME",
    "PINNED_KEY_NAME",
    "Checkpoint",
    "WitnessBook",
    "WitnessRefusal",
    "load_signing_key",
    "public_key_text",
    "sign_checkpoint",
    "signature_ok",
    "unsafe_ancestors",
]

KEY_NAME = "checkpoint-key.pem"
PUBLIC_KEY_NAME = "checkpoint-key.pub"
BOOK_NAME = "checkpoints.jsonl"
PINNED_KEY_NAME = "service-key.pub"


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement of the service: "my log's first ``seq`` records end in ``head``".

    >>> cp = Checkpoint(epoch=0, seq=3, head="ab" * 32, time="2026-01-01T00:00:00+00:00")
    >>> cp.payload()[:20]
    b'{"epoch":0,"head":"a'
    """

    epoch: int
    seq: int
    head: str
    time: str
    key: str = ""
    sig: str = ""

    def payload(self) -> bytes:
        """The signed bytes: canonical JSON of epoch, head, seq and time."""
        body = {"epoch": self.epoch, "head": self.head, "seq": self.seq, "time": self.time}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "checkpoint", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        """Read a checkpoint from JSON, naming the first bad field."""
        try:
            cp = cls(
                epoch=int(data["epoch"]),
                seq=int(data["seq"]),
                head=str(data["head"]),
                time=str(data["time"]),
                key=str(data.get("key", "")),
                sig=str(data.get("sig", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AuditError(
                f"a checkpoint needs epoch, seq (integers), head and time; got {data!r} ({exc})"
            ) from None
        if cp.seq < 1 or cp.epoch < 0 or len(cp.head) != 64:
            raise AuditError(
                f"checkpoint seq={cp.seq}, epoch={cp.epoch}, head={cp.head!r}: seq must be >= 1, "
                "epoch >= 0 and head a sha256 in hex"
            )
        return cp


class WitnessRefusal(AuditError):
    """The witness refused a checkpoint; ``code`` is one of ``CODES``."""

    CODES = ("bad-signature", "wrong-key", "stale-epoch", "backwards", "contradicts", "bad-request")

    def __init__(self, code: str, message: str, *, epoch: int | None = None):
        super().__init__(message)
        self.code = code
        self.epoch = epoch


def load_signing_key(folder: Path) -> Ed25519PrivateKey:
    """The service's checkpoint key in ``folder`` (``checkpoint-key.pem``, mode 0600), created on
    first use together with its public half (``checkpoint-key.pub``, 0644).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> k = load_signing_key(d)
    >>> oct((d / "checkpoint-key.pem").stat().st_mode & 0o777), public_key_text(k) == (
    ...     d / "checkpoint-key.pub").read_text().strip()
    ('0o600', True)
    """
    path = folder / KEY_NAME
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(
                f"{path} is not an Ed25519 private key; move it away to make a new one"
            )
    else:
        folder.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        atomic_write_bytes(path, pem, mode=0o600, fsync=True)
    atomic_write_text(folder / PUBLIC_KEY_NAME, public_key_text(key) + "\n", mode=0o644)
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in base64 (how checkpoints and the witness name it)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign_checkpoint(
    key: Ed25519PrivateKey, *, epoch: int, seq: int, head: str, when: dt.datetime | None = None
) -> Checkpoint:
    """A checkpoint of ``seq`` records ending in ``head``, signed with ``key``.

    >>> k = Ed25519PrivateKey.generate()
    >>> signature_ok(sign_checkpoint(k, epoch=0, seq=1, head="0" * 64))
    True
    """
    when = when or dt.datetime.now(dt.UTC)
    unsigned = Checkpoint(epoch, seq, head, when.isoformat(timespec="microseconds"))
    sig = base64.b64encode(key.sign(unsigned.payload())).decode()
    return Checkpoint(epoch, seq, head, unsigned.time, key=public_key_text(key), sig=sig)


def signature_ok(cp: Checkpoint, public_key: str | None = None) -> bool:
    """Whether ``cp`` is signed by ``public_key`` (default: the key it names).

    >>> k = Ed25519PrivateKey.generate()
    >>> cp = sign_checkpoint(k, epoch=0, seq=1, head="0" * 64)
    >>> signature_ok(cp), signature_ok(Checkpoint(0, 2, cp.head, cp.time, cp.key, cp.sig))
    (True, False)
    """
    try:
        raw = base64.b64decode(public_key or cp.key, validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(cp.sig), cp.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


def unsafe_ancestors(path: Path, owners: set[int] | None = None) -> list[str]:
    """Why ``path`` or a folder above it could be replaced by someone other than ``owners``
    (default: root and this process's user): each is owned by one of them and writable by no one
    else (a sticky folder owned by root, like ``/tmp``, is safe).

    >>> unsafe_ancestors(Path("/"))
    []
    """
    owners = owners if owners is not None else {0, os.getuid()}
    problems = []
    for p in [path, *path.parents]:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        sticky_root = stat.S_ISDIR(st.st_mode) and mode & stat.S_ISVTX and st.st_uid == 0
        if st.st_uid not in owners:
            problems.append(f"{p} belongs to uid {st.st_uid} (chown it to root)")
        elif mode & 0o022 and not sticky_root:
            problems.append(f"{p} is writable by group or others (mode {mode:o}; chmod go-w)")
    return problems


class WitnessBook:
    """The witness's append-only file of checkpoints and resets, ``<folder>/checkpoints.jsonl``.

    Appends are one ``write`` each under an exclusive ``flock``, then ``fdatasync``. The state
    (epoch, heads of the current epoch) is read incrementally, so entries written by another
    process (a reset by the admin's CLI) count at the next call.

    >>> import tempfile, pathlib
    >>> book = WitnessBook(pathlib.Path(tempfile.mkdtemp()))
    >>> k = Ed25519PrivateKey.generate()
    >>> book.accept(sign_checkpoint(k, epoch=0, seq=5, head="a" * 64))["seq"]
    5
    >>> book.accept(sign_checkpoint(k, epoch=0, seq=4, head="b" * 64))
    Traceback (most recent call last):
    ...
    genesis_lab.access.checkpoints.WitnessRefusal: checkpoint seq=4 goes backwards: the witness holds seq=5 of epoch 0
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / BOOK_NAME
        self.pinned_path = self.folder / PINNED_KEY_NAME
        self._offset = 0
        self.epoch = 0
        self.heads: dict[int, str] = {}
        self.last: Checkpoint | None = None
        self.bad_lines: list[int] = []
        self._lines = 0

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry in order (a line that is not JSON yields ``{"type": "unreadable"}``)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):
                    return  # an append cut short by a crash
                try:
                    entry = json.loads(raw)
                    if not isinstance(entry, dict):
                        raise ValueError
                except ValueError:
                    entry = {"type": "unreadable", "line": number}
                yield entry

    def _refresh(self) -> None:
        if not self.path.exists():
            return
        size = self.path.stat().st_size
        if size < self._offset:
            raise AuditError(f"the witness book {self.path} shrank: someone rewrote it")
        if size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                self._offset += len(raw)
                self._lines += 1
                try:
                    self._apply(json.loads(raw))
                except (ValueError, TypeError, AttributeError, AuditError):
                    self.bad_lines.append(self._lines)

    def _apply(self, entry: dict[str, Any]) -> None:
        if entry.get("type") == "reset":
            self.epoch = int(entry["epoch"])
            self.heads, self.last = {}, None
        elif entry.get("type") == "checkpoint":
            cp = Checkpoint.from_dict(entry)
            if cp.epoch == self.epoch:
                self.heads[cp.seq] = cp.head
                self.last = cp

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size != self._offset:  # a torn last line: end it so the new entry stands alone
                line = b"\n" + line
            os.write(fd, line)
            os.fdatasync(fd)
            self._offset = os.fstat(fd).st_size
            self._lines += line.count(b"\n")
        finally:
            os.close(fd)

    def _locked(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        return _Flock(self.folder / "checkpoints.lock")

    def pinned_key(self) -> str | None:
        """The service's public key the witness accepts (pinned at the first checkpoint)."""
        return self.pinned_path.read_text().strip() if self.pinned_path.exists() else None

    def latest(self) -> dict[str, Any]:
        """``{"epoch", "seq", "head", "time"}`` of the newest checkpoint (seq 0: none yet)."""
        with self._locked():
            self._refresh()
        last = self.last
        return {
            "epoch": self.epoch,
            "seq": last.seq if last else 0,
            "head": last.head if last else None,
            "time": last.time if last else None,
        }

    def accept(self, cp: Checkpoint) -> dict[str, Any]:
        """Append ``cp`` if it is consistent with every earlier one; raise
        :class:`WitnessRefusal` otherwise. A repeat of the newest checkpoint is accepted, once."""
        with self._locked():
            self._refresh()
            pinned = self.pinned_key()
            if pinned is not None and cp.key != pinned:
                raise WitnessRefusal(
                    "wrong-key",
                    f"checkpoint signed by key {cp.key}, the witness accepts only {pinned} "
                    f"(to change keys, the admin removes {self.pinned_path})",
                )
            if not signature_ok(cp, pinned):
                raise WitnessRefusal("bad-signature", "the checkpoint's signature is not valid")
            if cp.epoch != self.epoch:
                raise WitnessRefusal(
                    "stale-epoch",
                    f"checkpoint of epoch {cp.epoch}, the witness is at epoch {self.epoch}",
                    epoch=self.epoch,
                )
            last = self.last
            if last is not None and cp.seq < last.seq:
                raise WitnessRefusal(
                    "backwards",
                    f"checkpoint seq={cp.seq} goes backwards: the witness holds seq={last.seq} "
                    f"of epoch {self.epoch}",
                    epoch=self.epoch,
                )
            known = self.heads.get(cp.seq)
            if known is not None and known != cp.head:
                raise WitnessRefusal(
                    "contradicts",
                    f"checkpoint seq={cp.seq} has head {cp.head}, an earlier one of the same "
                    f"seq has {known}: the log was rewritten",
                    epoch=self.epoch,
                )
            if pinned is None:
                atomic_write_text(self.pinned_path, cp.key + "\n", mode=0o644, fsync=True)
            if known is None:
                self._append(cp.to_dict())
                self.heads[cp.seq] = cp.head
                self.last = cp
        return {"accepted": True, "epoch": cp.epoch, "seq": cp.seq}

    def reset(self, *, reason: str, evidence: str, who: str) -> int:
        """Start a new epoch (after the old log went into ``evidence``); returns its number."""
        with self._locked():
            self._refresh()
            epoch = self.epoch + 1
            self._append(
                {
                    "type": "reset",
                    "epoch": epoch,
                    "time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                    "reason": reason,
                    "evidence": evidence,
                    "by": who,
                }
            )
            self.epoch, self.heads, self.last = epoch, {}, None
        return epoch


class _Flock:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> _Flock:
        self._fh = open(self.path, "a+")
        fcntl.flock(self._fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
