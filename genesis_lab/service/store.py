"""Where a dataset's files live under the data root, and safe resolution of a requested file.

Every path the service serves is resolved (symlinks followed) and must stay inside both the
dataset's store and the data root; ``..``, ``.``, empty, backslash and NUL segments are refused.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from genesis_lab.catalog.entry import Entry

__all__ = ["UnsafePathError", "dataset_store", "model_store", "resolve_file", "store_files"]


class UnsafePathError(ValueError):
    """A requested path tries to leave the dataset's store."""


def _local_path(url: str, data_root: Path) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme:
        return None  # http, s3, ...: not a site file the service serves
    p = Path(url).expanduser()
    return p if p.is_absolute() else data_root / p


def dataset_store(entry: Entry, data_root: Path) -> Path | None:
    """The resolved folder (zarr store) or file of ``entry``'s first local distribution.

    Only paths inside ``data_root`` count; anything else is not served.

    >>> dataset_store.__name__
    'dataset_store'
    """
    root = data_root.resolve()
    for dist in entry.distribution:
        for url in (dist.download_url, dist.access_url):
            if not url:
                continue
            local = _local_path(url, data_root)
            if local is None:
                continue
            resolved = local.resolve()
            if resolved.is_relative_to(root) and resolved.exists():
                return resolved
    return None


def model_store(entry: Entry, data_root: Path) -> Path | None:
    """The resolved folder of a model registered on this site (``options["path"]``), if it lies
    inside ``data_root``; shipped models live in the package and are not served.

    >>> model_store.__name__
    'model_store'
    """
    local = _local_path(str(entry.options.get("path", "")), data_root)
    if local is None:
        return None
    resolved = local.resolve()
    if resolved.is_dir() and resolved.is_relative_to(data_root.resolve()):
        return resolved
    return None


def resolve_file(store: Path, data_root: Path, relative: str) -> Path:
    """The file ``relative`` inside ``store``; raises :class:`UnsafePathError` if it would leave
    the store or the data root, and ``FileNotFoundError`` if there is no such file.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> resolve_file(d, d, "../etc/passwd")
    Traceback (most recent call last):
    ...
    genesis_lab.service.store.UnsafePathError: path segment '..' is not allowed
    """
    if "\\" in relative or "\x00" in relative:
        raise UnsafePathError("backslashes and NUL bytes are not allowed in a data path")
    if relative.startswith("/"):
        raise UnsafePathError("a data path must be relative to the dataset")
    parts = relative.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafePathError(f"path segment {part!r} is not allowed")
    store = store.resolve()
    root = data_root.resolve()
    if store.is_file():
        if relative != store.name:
            raise FileNotFoundError(relative)
        return store
    target = (store / Path(*parts)).resolve()
    if not (target.is_relative_to(store) and target.is_relative_to(root)):
        raise UnsafePathError("the path leads outside the dataset")
    if not target.is_file():
        raise FileNotFoundError(relative)
    return target


def store_files(store: Path, data_root: Path, limit: int = 10_000) -> list[str]:
    """Relative paths of the files in a store (symlinks leading out are left out), sorted.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "zarr.json").write_text("{}")
    >>> store_files(d, d)
    ['zarr.json']
    """
    store = store.resolve()
    root = data_root.resolve()
    if store.is_file():
        return [store.name]
    out = []
    for path in sorted(store.rglob("*")):
        if not path.is_file():
            continue
        real = path.resolve()
        if not (real.is_relative_to(store) and real.is_relative_to(root)):
            continue
        out.append(path.relative_to(store).as_posix())
        if len(out) >= limit:
            break
    return out
