"""The catalog as the genesis service shows it, for SDK calls inside a hub session.

Used when ``settings.service_url`` and ``settings.hub_api_token`` are set: entries come from the
service (filtered by the caller's clearances there), and data are read lazily through it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesis_lab.catalog.catalog import Catalog
from genesis_lab.catalog.entry import Entry, entry_from_mapping
from genesis_lab.errors import AccessDeniedError, CatalogError, EntryValidationError
from genesis_lab.settings import Settings, get_settings

if TYPE_CHECKING:
    import xarray as xr

    from genesis_lab.catalog.service_store import ServiceStore

__all__ = [
    "SERVICE_KEY",
    "RemoteCatalog",
    "download_remote_files",
    "is_remote_entry",
    "open_remote_dataset",
    "open_remote_dataset_by_id",
    "register_remote_dataset",
    "remote_catalog",
    "service_configured",
]

SERVICE_KEY = "_genesis_service"
"""Key in a remote entry's ``options`` holding what the service said about it."""


def service_configured(settings: Settings | None = None) -> bool:
    """Whether this process should use the service (inside a hub session).

    >>> from genesis_lab.settings import Settings
    >>> service_configured(Settings(service_url=None))
    False
    """
    settings = settings or get_settings()
    return bool(settings.service_url and settings.hub_api_token)


def _base(settings: Settings) -> str:
    assert settings.service_url
    url = settings.service_url
    return url if url.endswith("/") else url + "/"


def _request(
    settings: Settings, path: str, *, method: str = "GET", body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"token {settings.hub_api_token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(_base(settings) + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=300 if data else 60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = {"message": exc.reason}
        return exc.code, body
    except urllib.error.URLError as exc:
        raise CatalogError(
            f"The genesis service at {_base(settings)} cannot be reached ({exc.reason}). "
            "Check GENESIS_SERVICE_URL, or unset it to use the local catalog."
        ) from None


def _entry(view: dict[str, Any]) -> Entry:
    data = {
        k: v for k, v in view.items() if k not in {"accessLevel", "access", "served", "zarr_format"}
    }
    dists = []
    for d in view.get("distribution", []):
        dists.append(
            {
                "downloadURL": d.get("downloadURL"),
                "accessURL": d.get("accessURL"),
                "mediaType": d.get("mediaType"),
                "format": d.get("format"),
                "title": d.get("title"),
            }
        )
    data["distribution"] = dists
    access = view.get("access", {})
    data["options"] = {
        SERVICE_KEY: {
            "may_read": bool(access.get("may_read")),
            "reason": str(access.get("reason", "")),
            "served": bool(view.get("served", False)),
            "zarr_format": view.get("zarr_format"),
        }
    }
    return entry_from_mapping(data, source="genesis service")


class RemoteCatalog(Catalog):
    """A snapshot of the entries the service lists; :meth:`get` always asks the service afresh,
    so the decision used to open data is the current one."""

    settings: Settings | None = None

    def get(self, entry_id: str, kind: str | None = None) -> Entry:
        settings = self.settings or get_settings()
        quoted = urllib.parse.quote(entry_id, safe="/")
        status, body = _request(settings, f"api/catalog/{quoted}")
        if status == 404:
            self.entries.pop(entry_id, None)
            return super().get(entry_id, kind)  # raises UnknownAssetError with visible ids only
        if status != 200:
            raise CatalogError(
                f"The genesis service answered {status} for {entry_id!r}: {body.get('message')}"
            )
        entry = _entry(body)
        self.entries[entry.id] = entry
        return super().get(entry_id, kind)


def remote_catalog(settings: Settings | None = None) -> RemoteCatalog:
    """The entries the service lists for this session's token.

    >>> cat = remote_catalog()  # doctest: +SKIP
    """
    settings = settings or get_settings()
    status, body = _request(settings, "api/catalog")
    if status != 200:
        raise CatalogError(
            f"The genesis service refused the catalog ({status}): {body.get('message')}. "
            "Is the session's token valid (JUPYTERHUB_API_TOKEN)?"
        )
    errors: list[EntryValidationError] = []
    entries = []
    for view in body.get("entries", []):
        try:
            entries.append(_entry(view))
        except EntryValidationError as exc:
            errors.append(exc)
    cat = RemoteCatalog.from_entries(entries, errors)
    cat.settings = settings
    return cat


def is_remote_entry(entry: Entry) -> bool:
    """Whether ``entry`` came from the service.

    >>> from genesis_lab.catalog import get_catalog
    >>> is_remote_entry(next(iter(get_catalog())))  # doctest: +SKIP
    False
    """
    return SERVICE_KEY in entry.options


def _data_url(entry: Entry) -> str:
    url = next(
        (
            d.access_url or d.download_url
            for d in entry.distribution
            if d.access_url or d.download_url
        ),
        None,
    )
    if url is None:
        raise CatalogError(f"The genesis service gave no data URL for {entry.id}.")
    return url


def _service_store(entry: Entry) -> ServiceStore:
    """The files the service serves for a readable ``entry``, read with this session's token."""
    from genesis_lab.catalog.service_store import ServiceStore

    token = get_settings().hub_api_token
    assert token is not None
    return ServiceStore(_data_url(entry), token)


def _check_readable(entry: Entry) -> None:
    info = entry.options[SERVICE_KEY]
    if not info["may_read"]:
        raise AccessDeniedError(f"{entry.id}: {info['reason']}")


def download_remote_files(entry: Entry, dest: Path) -> list[Path]:
    """Copy every file the service serves for ``entry`` into the folder ``dest`` (for small
    assets such as a model's card and weights); each file is written atomically.

    Raises :class:`AccessDeniedError` with the service's reason when the caller may not read it.

    >>> download_remote_files(entry, Path("model"))  # doctest: +SKIP
    """
    from genesis_lab.fileio import atomic_write_bytes

    _check_readable(entry)
    if not entry.options[SERVICE_KEY]["served"]:
        raise CatalogError(f"The genesis service serves no files for {entry.id}.")
    store = _service_store(entry)
    written = []
    for key in store.files():
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise CatalogError(f"The genesis service listed an unsafe file name {key!r}")
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, store.read_file(key))
        written.append(target)
    return written


def open_remote_dataset(entry: Entry, **kwargs: Any) -> xr.Dataset:
    """Open a remote entry's data lazily through the service (only chunks read are fetched).

    Raises :class:`AccessDeniedError` with the service's reason when the caller may not read it.
    Entries the service lists without serving files (package-shipped data) are opened by their
    loader plugin in this process.
    """
    _check_readable(entry)
    info = entry.options[SERVICE_KEY]
    if not info["served"]:
        if entry.loader:
            from genesis_lab.catalog.registry import load_plugin

            plugin = load_plugin("dataset", entry.loader)
            return plugin.open(plugin.catalog_entry(), **kwargs)
        raise CatalogError(f"The genesis service serves no files for {entry.id}.")
    import xarray as xr

    if info.get("zarr_format") in (2, 3):
        kwargs.setdefault("zarr_format", info["zarr_format"])
    return xr.open_zarr(
        _service_store(entry),
        chunks=kwargs.pop("chunks", {}),
        consolidated=kwargs.pop("consolidated", None),
        **kwargs,
    )


def open_remote_dataset_by_id(
    catalog: RemoteCatalog, dataset_id: str, **kwargs: Any
) -> tuple[Entry, xr.Dataset]:
    """The service's current entry for ``dataset_id`` and its data, opened lazily.

    When this session's snapshot already says the data are readable, the entry is asked afresh
    while the store's metadata are read (two round trips at once, not one after the other); the
    service decides on each data request anyway, so a refusal since the snapshot still stops the
    opening with its reason.
    """
    snapshot = catalog.entries.get(dataset_id)
    if (
        snapshot is None
        or snapshot.kind != "dataset"
        or not snapshot.options[SERVICE_KEY]["may_read"]
        or not snapshot.options[SERVICE_KEY]["served"]
    ):
        entry = catalog.get(dataset_id, kind="dataset")
        return entry, open_remote_dataset(entry, **kwargs)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="genesis-entry") as pool:
        fresh = pool.submit(catalog.get, dataset_id, "dataset")
        try:
            ds = open_remote_dataset(snapshot, **kwargs)
        except (AccessDeniedError, CatalogError):
            fresh.result()  # the service's own answer (unknown id, refusal) comes first
            raise
        entry = fresh.result()
    _check_readable(entry)
    return entry, ds


def register_remote_dataset(dataset_id: str, request: dict[str, Any]) -> Entry:
    """Ask the service to register a dataset (``save_dataset`` inside a hub session): ``request``
    holds the metadata and ``netcdf``, the data as base64 netCDF. Returns the new entry as the
    service lists it for this caller."""
    settings = get_settings()
    quoted = urllib.parse.quote(dataset_id, safe="/")
    status, body = _request(settings, f"api/datasets/{quoted}", method="PUT", body=request)
    if status in (401, 403):
        raise AccessDeniedError(f"The genesis service refused to register {dataset_id!r}: "
                                f"{body.get('message')}")  # fmt: skip
    if status != 201:
        raise CatalogError(
            f"The genesis service answered {status} to registering {dataset_id!r}: "
            f"{body.get('message')}"
        )
    return _entry(body)
