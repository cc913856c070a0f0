"""Remote data through fsspec: ``http(s)://``, ``s3://``, ``gs://`` and any other fsspec protocol.

Zarr stores are opened lazily (only the chunks a computation needs cross the wire); netCDF, CSV
and parquet files are fetched whole, once, so their sha256 can be checked before they are parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    import xarray as xr

from genesis_lab.errors import DataError

__all__ = ["fetch_bytes", "is_remote", "open_remote_zarr", "require_protocol"]


def is_remote(url: str) -> bool:
    """True for URLs with a protocol other than ``file``.

    >>> is_remote("https://example.org/a.zarr"), is_remote("site/a.nc"), is_remote("file:///x")
    (True, False, False)
    """
    scheme = urlparse(url).scheme
    return "://" in url and scheme not in ("", "file")


def require_protocol(url: str) -> None:
    """Raise :class:`DataError` saying what to install when fsspec cannot read ``url``'s protocol.

    >>> require_protocol("https://example.org/a.nc")
    """
    import fsspec

    protocol = urlparse(url).scheme
    try:
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as exc:
        raise DataError(
            f"Cannot read {url!r}: fsspec has no usable backend for {protocol}:// ({exc}). "
            "Install the fsspec backend package it names (for example s3fs for s3://, gcsfs "
            "for gs://) or use an https:// URL."
        ) from None


def fetch_bytes(url: str, storage_options: dict[str, Any] | None = None) -> bytes:
    """All bytes at ``url`` (one request for HTTP).

    >>> fetch_bytes("memory://nothing")  # doctest: +SKIP
    """
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    return fs.cat_file(path)


def open_remote_zarr(
    url: str,
    *,
    storage_options: dict[str, Any] | None = None,
    chunks: Any = None,
    consolidated: bool | None = True,
) -> xr.Dataset:
    """Open a remote zarr store lazily: metadata now, chunks when computed.

    >>> ds = open_remote_zarr("https://example.org/store.zarr")  # doctest: +SKIP
    """
    import xarray as xr

    return xr.open_zarr(
        url,
        storage_options=storage_options or {},
        chunks={} if chunks is None else chunks,
        consolidated=consolidated,
    )
