"""sha256 digests of the bytes a dataset is read from, and the check that they match the catalog.

Policy (what one digest covers):

* a single file (netCDF, CSV, parquet; local or remote): the sha256 of its bytes;
* several package files: :func:`sha256_files`, the sha256 of the lines ``"<name>\\0<sha256>\\n"``
  sorted by name, so the digest does not depend on where the package is installed;
* every call reads and hashes the bytes: nothing is cached by path, size or modification time, so
  an edit that keeps the size and restores the mtime is still caught on the next open;
* a zarr store (local or remote): the sha256 of its consolidated metadata document, ``.zmetadata``
  (zarr v2) or the root ``zarr.json`` (zarr v3). It pins every array's shape, dtype, chunking,
  codecs and attributes while keeping remote stores lazy: hashing every chunk would fetch the whole
  store. Stores written by :func:`genesis_lab.data.register.save_dataset` are zarr v2 with
  consolidated metadata. Use :func:`sha256_tree` to pin every byte of a local store instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from genesis_lab.errors import ChecksumMismatchError, DataError

__all__ = [
    "ZARR_METADATA_KEYS",
    "sha256_bytes",
    "sha256_file",
    "sha256_files",
    "sha256_tree",
    "sha256_url",
    "sha256_zarr",
    "verify",
]

ZARR_METADATA_KEYS: tuple[str, ...] = (".zmetadata", "zarr.json")
"""Consolidated metadata documents, in the order they are looked for."""

_BLOCK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """The sha256 hex digest of ``data``.

    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, read in full on every call (no cache).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
    >>> sha256_file(p)[:12]
    'e3b0c44298fc'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def sha256_files(named: Iterable[tuple[str, str | os.PathLike[str]]]) -> str:
    """One digest over several files given as ``(name, path)``; a single file keeps its own digest.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
    >>> sha256_files([("x", p)]) == sha256_file(p)
    True
    """
    items = sorted((name, sha256_file(path)) for name, path in named)
    if not items:
        raise DataError("sha256_files needs at least one file to hash.")
    if len(items) == 1:
        return items[0][1]
    return sha256_bytes("".join(f"{name}\0{digest}\n" for name, digest in items).encode())


def sha256_tree(root: str | os.PathLike[str]) -> str:
    """One digest over every file below ``root`` (names relative to it, ``/``-separated).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a").write_bytes(b"1")
    >>> len(sha256_tree(d))
    64
    """
    root = Path(root)
    files = [p for p in root.rglob("*") if p.is_file()]
    return sha256_bytes(
        "".join(
            f"{name}\0{sha256_file(p)}\n"
            for name, p in sorted((p.relative_to(root).as_posix(), p) for p in files)
        ).encode()
    )


def sha256_url(url: str, storage_options: dict[str, Any] | None = None) -> str:
    """The sha256 of the bytes at an fsspec URL (``http://``, ``s3://``, ...), streamed."""
    import fsspec

    h = hashlib.sha256()
    with fsspec.open(url, "rb", **(storage_options or {})) as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def sha256_zarr(
    store: str | os.PathLike[str], storage_options: dict[str, Any] | None = None
) -> str:
    """The sha256 of a zarr store's consolidated metadata (see the module docstring).

    ``store`` is a local folder or an fsspec URL; raises :class:`DataError` when the store has no
    consolidated metadata, saying how to add it.
    """
    store_s = os.fspath(store)
    if "://" not in store_s:
        for key in ZARR_METADATA_KEYS:
            try:
                return sha256_file(os.path.join(store_s, key))
            except (FileNotFoundError, NotADirectoryError):
                continue
    else:
        import fsspec

        fs, root = fsspec.core.url_to_fs(store_s, **(storage_options or {}))
        for key in ZARR_METADATA_KEYS:
            try:
                return sha256_bytes(fs.cat_file(f"{root.rstrip('/')}/{key}"))
            except FileNotFoundError:
                continue
    raise DataError(
        f"The zarr store {store_s!r} has no consolidated metadata ({' or '.join(ZARR_METADATA_KEYS)}), "
        "so its checksum cannot be computed. Write it with consolidated metadata "
        "(xarray: to_zarr(..., consolidated=True) or zarr.consolidate_metadata(store))."
    )


def verify(expected: str | None, actual: str, *, what: str, entry_id: str = "") -> None:
    """Raise :class:`ChecksumMismatchError` unless ``actual`` equals ``expected`` (None: no check).

    >>> verify(None, "ab" * 32, what="x")
    >>> verify("ab" * 32, "ab" * 32, what="x")
    """
    if expected is None or expected == actual:
        return
    who = f"catalog entry {entry_id!r}" if entry_id else "the catalog"
    raise ChecksumMismatchError(
        f"Checksum mismatch for {what}: {who} records sha256 {expected} but the bytes read have "
        f"sha256 {actual}. The data changed or is corrupt: restore the original file, or, if the "
        "change is intended, put the new digest in the entry's provenance.sha256."
    )
