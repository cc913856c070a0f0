"""Atomic file writes: a hidden temporary file in the target's folder, then ``os.replace``.

Readers see the old file or the new one, never a partial write; a failed write leaves no temporary.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _create_temp(path: Path, mode: int | None) -> tuple[int, Path]:
    """Create a new hidden file next to ``path``; return its descriptor and path.

    With ``mode=None`` the file gets what ``open(path, "w")`` would give it (0o666 less the
    umask); otherwise exactly ``mode``, set on the descriptor before any byte is written (the
    file is created owner-only, so no one else can open it before its mode is set).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
        except FileExistsError:
            continue
        try:
            if mode is not None:
                os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return fd, tmp
    raise FileExistsError(f"no free temporary name next to {path} after 100 tries")


def _discard(tmp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


def atomic_write_bytes(
    path: Path | str, data: bytes, *, mode: int | None = None, fsync: bool = False
) -> None:
    """Replace ``path`` with ``data`` atomically.

    ``mode`` sets the file's permission bits exactly (default: as ``open()`` would create it);
    ``fsync=True`` flushes the content to disk before the rename. The folder must exist.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "key"
    >>> atomic_write_bytes(p, b"secret", mode=0o600)
    >>> p.read_bytes(), oct(p.stat().st_mode & 0o777)
    (b'secret', '0o600')
    """
    path = Path(path)
    fd, tmp = _create_temp(path, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def atomic_write_text(
    path: Path | str,
    text: str,
    *,
    encoding: str = "utf-8",
    mode: int | None = None,
    fsync: bool = False,
) -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_write_bytes`).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "head.json"
    >>> atomic_write_text(p, '{"count": 3}')
    >>> p.read_text()
    '{"count": 3}'
    """
    atomic_write_bytes(path, text.encode(encoding), mode=mode, fsync=fsync)


@contextlib.contextmanager
def atomic_path(
    path: Path | str, *, mode: int | None = None, fsync: bool = False
) -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; on success it replaces ``path``.

    For writers that want a file name (``Dataset.to_netcdf``, ``shutil.copyfile``): the
    temporary exists, empty, when the block starts, and the writer overwrites it. On an
    exception it is removed and ``path`` is left as it was. ``mode`` and ``fsync`` as in
    :func:`atomic_write_bytes`; with a ``mode`` the temporary is owner-only (0o600) while the
    block runs and gets ``mode`` just before the rename.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("hello")
    >>> with atomic_path(d / "b.txt") as tmp:
    ...     _ = shutil.copyfile(d / "a.txt", tmp)
    >>> (d / "b.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('hello', ['a.txt', 'b.txt'])
    """
    path = Path(path)
    fd, tmp = _create_temp(path, None if mode is None else 0o600)
    os.close(fd)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        if fsync:
            fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
