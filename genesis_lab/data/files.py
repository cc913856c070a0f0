"""Open the files a catalog entry's distribution names: netCDF, zarr, CSV and parquet.

A ``downloadURL`` is a URL (``https://``, ``s3://``, ``file://``), an absolute path, or a path
relative to ``settings.data_root`` (``GENESIS_DATA_ROOT``). A recorded ``provenance.sha256`` is
checked before anything is returned (see :mod:`genesis_lab.data.checksum` for what it covers).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from genesis_lab.catalog.entry import Distribution, Entry
from genesis_lab.data.checksum import sha256_bytes, sha256_file, sha256_zarr, verify
from genesis_lab.data.remote import fetch_bytes, is_remote, open_remote_zarr, require_protocol
from genesis_lab.errors import DataError, ParameterError, UnsupportedFormatError
from genesis_lab.settings import get_settings

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["FORMATS", "SUFFIXES", "format_of", "open_distribution", "resolve_location"]

FORMATS: tuple[str, ...] = ("netcdf", "zarr", "csv", "parquet")
SUFFIXES: dict[str, str] = {
    ".nc": "netcdf",
    ".nc4": "netcdf",
    ".netcdf": "netcdf",
    ".cdf": "netcdf",
    ".h5": "netcdf",
    ".zarr": "zarr",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_OPTIONS: dict[str, tuple[str, ...]] = {
    "netcdf": ("chunks", "engine", "storage_options"),
    "zarr": ("chunks", "consolidated", "storage_options"),
    "csv": ("index", "storage_options"),
    "parquet": ("index", "storage_options"),
}


def resolve_location(url: str) -> str:
    """A remote URL as given; a local one as an absolute path (relative: under the data root).

    >>> from genesis_lab.settings import get_settings
    >>> resolve_location("site/a.nc") == str(get_settings().data_root / "site/a.nc")
    True
    """
    if is_remote(url):
        return url
    if url.startswith("file://"):
        return unquote(urlparse(url).path)
    path = Path(url).expanduser()
    if not path.is_absolute():
        root = get_settings().data_root
        assert root is not None
        path = root / path
    return str(path)


def format_of(distribution: Distribution, location: str) -> str:
    """The distribution's ``format``, else the one its file suffix implies.

    >>> from genesis_lab.catalog import Distribution
    >>> format_of(Distribution(downloadURL="a/b.parquet"), "a/b.parquet")
    'parquet'
    """
    fmt = (distribution.format or "").lower() or None
    if fmt is None:
        suffix = Path(urlparse(location).path.rstrip("/")).suffix.lower()
        fmt = SUFFIXES.get(suffix)
        if fmt is None:
            raise UnsupportedFormatError(
                f"Cannot tell the format of {location!r} from its suffix {suffix!r}. Set "
                f"'format' in the distribution to one of: {', '.join(FORMATS)} "
                f"(suffixes: {', '.join(sorted(SUFFIXES))})."
            )
    if fmt == "nc":
        fmt = "netcdf"
    if fmt not in FORMATS:
        raise UnsupportedFormatError(
            f"Distribution format {fmt!r} has no loader. Supported formats: {', '.join(FORMATS)}."
        )
    return fmt


def _distribution(entry: Entry) -> Distribution:
    for dist in entry.distribution:
        if dist.download_url:
            return dist
    raise DataError(
        f"Catalog entry {entry.id!r} has no distribution with a downloadURL and no loader plugin, "
        "so there is nothing to open. Add distribution: [{downloadURL: <path or URL>, format: "
        f"<{'|'.join(FORMATS)}>}} to its YAML."
    )


def open_distribution(entry: Entry, **kwargs: Any) -> xr.Dataset:
    """Open the first distribution of ``entry`` that has a ``downloadURL``.

    Options (from the entry's ``options`` and ``kwargs``, which win): ``chunks`` (netCDF, zarr;
    zarr defaults to the stored chunks, lazily), ``engine`` (netCDF), ``consolidated`` (zarr),
    ``index`` (CSV/parquet columns that become dimensions), ``storage_options`` (remote URLs).

    >>> import genesis_lab as gl
    >>> ds = gl.open_dataset("site/my-measurements")  # doctest: +SKIP
    """
    dist = _distribution(entry)
    assert dist.download_url is not None
    location = resolve_location(dist.download_url)
    fmt = format_of(dist, location)
    options = {**entry.options, **kwargs}
    unknown = sorted(set(options) - set(_OPTIONS[fmt]))
    if unknown:
        raise ParameterError(
            f"{entry.id}: option(s) {', '.join(map(repr, unknown))} do not apply to {fmt} data. "
            f"Allowed options: {', '.join(_OPTIONS[fmt])}"
        )
    storage_options = options.pop("storage_options", None) or {}
    remote = is_remote(location)
    if remote:
        require_protocol(location)
    elif not Path(location).exists():
        raise DataError(
            f"{entry.id}: {location} does not exist. Place the file there, or fix downloadURL "
            f"(relative paths are under the data root {get_settings().data_root}; set "
            "GENESIS_DATA_ROOT or data_root in the site file)."
        )
    expected = entry.provenance.sha256
    if fmt == "zarr":
        if expected is not None:
            verify(
                expected,
                sha256_zarr(location, storage_options),
                what=f"the zarr store {location} (consolidated metadata)",
                entry_id=entry.id,
            )
        ds = _open_zarr(location, remote, storage_options, **options)
    else:
        source: Any
        if remote:
            data = fetch_bytes(location, storage_options)
            if expected is not None:
                verify(expected, sha256_bytes(data), what=location, entry_id=entry.id)
            import io

            source = io.BytesIO(data)
        else:
            if expected is not None:
                verify(expected, sha256_file(location), what=location, entry_id=entry.id)
            source = location
        ds = _READERS[fmt](source, **options)
    for name, unit in entry.units.items():
        if name in ds.variables:
            ds.variables[name].attrs.setdefault("units", unit)
    ds.attrs["provenance_location"] = location
    return ds


def _open_zarr(
    location: str,
    remote: bool,
    storage_options: dict[str, Any],
    *,
    chunks: Any = None,
    consolidated: bool | None = None,
) -> xr.Dataset:
    if remote:
        return open_remote_zarr(
            location, storage_options=storage_options, chunks=chunks, consolidated=consolidated
        )
    import xarray as xr

    return xr.open_zarr(
        location, chunks={} if chunks is None else chunks, consolidated=consolidated
    )


def _open_netcdf(source: Any, *, chunks: Any = None, engine: str | None = None) -> xr.Dataset:
    import xarray as xr

    return xr.open_dataset(source, engine=engine, chunks=chunks)


def _table_to_xarray(df: Any, index: str | list[str] | None) -> xr.Dataset:
    if index is not None:
        missing = [c for c in ([index] if isinstance(index, str) else index) if c not in df.columns]
        if missing:
            raise ParameterError(
                f"index: column(s) {', '.join(missing)} are not in the table. "
                f"Columns: {', '.join(map(str, df.columns))}"
            )
        df = df.set_index(index)
    else:
        df = df.rename_axis("row")
    return df.to_xarray()


def _open_csv(source: Any, *, index: str | list[str] | None = None) -> xr.Dataset:
    import pandas as pd

    return _table_to_xarray(pd.read_csv(source), index)


def _open_parquet(source: Any, *, index: str | list[str] | None = None) -> xr.Dataset:
    import pandas as pd

    return _table_to_xarray(pd.read_parquet(source), index)


_READERS = {"netcdf": _open_netcdf, "csv": _open_csv, "parquet": _open_parquet}
