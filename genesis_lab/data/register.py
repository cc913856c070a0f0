"""Register an ``xarray.Dataset`` (simulator output, derived data) back into the catalog.

The data is written as a zarr store under the data root and described by a catalog YAML in the
user catalog folder, both atomically, with the checksum of the store's consolidated metadata.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesis_lab.catalog.entry import DOMAINS, Entry, entry_from_mapping
from genesis_lab.data.checksum import sha256_zarr
from genesis_lab.errors import DataError, ParameterError
from genesis_lab.fileio import atomic_write_text
from genesis_lab.settings import get_settings

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["REGISTER_FIELDS", "register_from_request", "save_dataset"]

DEFAULT_CONTACT = {"fn": "Genesis Mission data desk", "hasEmail": "data@genesis-lab.invalid"}
DEFAULT_LICENSE = "https://creativecommons.org/publicdomain/zero/1.0/"


def save_dataset(
    ds: xr.Dataset,
    dataset_id: str,
    *,
    title: str,
    description: str,
    source: str,
    domain: str | None = None,
    agency: str = "Genesis Mission",
    citation: str | None = None,
    version: str = "1",
    derived_from: Iterable[str] = (),
    parameters: Mapping[str, Any] | None = None,
    keyword: Iterable[str] | None = None,
    marking: str = "public",
    license: str = DEFAULT_LICENSE,
    publisher: str = "Genesis Mission",
    contact_point: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Entry:
    """Write ``ds`` to ``<data_root>/<domain>/<name>.zarr`` and catalog it; return its entry.

    ``dataset_id`` is ``domain/name`` (or ``name`` with ``domain=``). ``source`` names what made
    the data (for example ``genesis_lab.simulators.nuclear:PointKinetics``); ``parameters`` and
    ``derived_from`` (catalog ids) complete the provenance. Units are taken from each variable's
    ``units`` attribute. An existing id raises unless ``overwrite=True``. After the call,
    ``genesis_lab.open_dataset(dataset_id)`` opens the stored data lazily.

    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"power": ("t", np.ones(3), {"units": "W"})})
    >>> entry = save_dataset(ds, "nuclear-energy/demo-run", title="Demo run",
    ...     description="A demo.", source="doctest")  # doctest: +SKIP
    """
    dataset_id = _full_id(dataset_id, domain)
    dom, name = dataset_id.split("/", 1)
    from genesis_lab.catalog.remote import register_remote_dataset, service_configured

    if service_configured():  # in a hub session: the service writes into its own folders
        import base64

        from genesis_lab.catalog.catalog import get_catalog

        request = {
            "title": title, "description": description, "source": source, "agency": agency,
            "citation": citation, "version": version, "derived_from": list(derived_from),
            "parameters": _plain(dict(parameters or {})),
            "keyword": list(keyword) if keyword else None, "marking": marking,
            "license": license, "publisher": publisher,
            "contact_point": dict(contact_point) if contact_point else None,
            "overwrite": overwrite,
            "netcdf": base64.b64encode(bytes(ds.to_netcdf(engine="h5netcdf"))).decode(),
        }  # fmt: skip
        entry = register_remote_dataset(dataset_id, request)
        get_catalog.cache_clear()
        return entry
    settings = get_settings()
    assert settings.data_root is not None and settings.user_catalog_dir is not None
    store = settings.data_root / dom / f"{name}.zarr"
    yaml_path = settings.user_catalog_dir / dom / f"{name}.yaml"
    if not overwrite and (store.exists() or yaml_path.exists()):
        raise DataError(
            f"A dataset {dataset_id!r} is already registered ({yaml_path}). Pass overwrite=True "
            "to replace it, or choose another id."
        )
    units = {str(k): str(v.attrs["units"]) for k, v in ds.variables.items() if "units" in v.attrs}
    data = {
        "id": dataset_id,
        "kind": "dataset",
        "domain": dom,
        "title": title,
        "description": description,
        "keyword": list(keyword) if keyword else [dom, name],
        "modified": dt.date.today().isoformat(),
        "publisher": {"name": publisher},
        "contactPoint": dict(contact_point or DEFAULT_CONTACT),
        "license": license,
        "distribution": [{"downloadURL": f"{dom}/{name}.zarr", "format": "zarr"}],
        "provenance": {
            "source": source,
            "agency": agency,
            "citation": citation or f"genesis-lab dataset {dataset_id}, version {version}",
            "version": version,
            "derived_from": list(derived_from),
            "parameters": _plain(dict(parameters or {})),
        },
        "marking": marking,
        "units": units,
    }
    entry_from_mapping(data, source="save_dataset")  # validate before writing anything
    _write_zarr_atomically(ds, store)
    data["provenance"]["sha256"] = sha256_zarr(store)
    entry = entry_from_mapping(data, source=str(yaml_path))
    _write_yaml_atomically(entry, yaml_path)
    from genesis_lab.catalog.catalog import get_catalog

    get_catalog.cache_clear()
    return entry.model_copy(update={"source_file": str(yaml_path)})


REGISTER_FIELDS = {
    "title": str, "description": str, "source": str, "agency": str, "citation": (str, type(None)),
    "version": str, "derived_from": list, "parameters": dict, "keyword": (list, type(None)),
    "marking": str, "license": str, "publisher": str, "contact_point": (dict, type(None)),
    "overwrite": bool, "netcdf": str,
}  # fmt: skip
"""What a registration request (``PUT api/datasets/{id}`` of the service) may hold, by type."""


def register_from_request(dataset_id: str, request: Mapping[str, Any], registrant: str) -> Entry:
    """Register the dataset a session sent (``save_dataset`` in a hub session), in this process's
    own folders; the provenance names ``registrant``. Bad fields raise :class:`ParameterError`."""
    import base64
    import io

    import xarray as xr

    unknown = sorted(set(request) - set(REGISTER_FIELDS))
    if unknown:
        raise ParameterError(
            f"{unknown[0]!r} is not a registration field; allowed: {', '.join(REGISTER_FIELDS)}"
        )
    for key in ("title", "description", "source", "netcdf"):
        if key not in request:
            raise ParameterError(f"{key!r} is required to register a dataset")
    for key, value in request.items():
        if not isinstance(value, REGISTER_FIELDS[key]):
            raise ParameterError(f"{key!r} has the wrong type ({type(value).__name__})")
    try:
        raw = base64.b64decode(request["netcdf"], validate=True)
        ds = xr.open_dataset(io.BytesIO(raw), engine="h5netcdf").load()
    except Exception as exc:  # whatever the bytes make the netCDF reader raise is bad input
        raise ParameterError(
            f"'netcdf' is not base64 of a netCDF file ({type(exc).__name__}: {exc})"
        ) from None
    fields = {k: v for k, v in request.items() if k != "netcdf" and v is not None}
    fields["source"] = f"{fields['source']} (registered by {registrant})"
    return save_dataset(ds, dataset_id, **fields)


def _full_id(dataset_id: str, domain: str | None) -> str:
    if "/" not in dataset_id:
        if domain is None:
            raise ParameterError(
                f"dataset_id={dataset_id!r}: give 'domain/name' or pass domain= (one of "
                f"{', '.join(DOMAINS)})"
            )
        dataset_id = f"{domain}/{dataset_id}"
    dom = dataset_id.split("/", 1)[0]
    if domain is not None and domain != dom:
        raise ParameterError(f"domain={domain!r} disagrees with dataset_id={dataset_id!r}")
    if dom not in DOMAINS:
        raise ParameterError(
            f"domain {dom!r} is not a known domain. Allowed values: {', '.join(DOMAINS)}"
        )
    return dataset_id


def _plain(value: Any) -> Any:
    """Parameters as YAML-safe builtins (numpy scalars and arrays become numbers and lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _write_zarr_atomically(ds: xr.Dataset, store: Path) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{store.name}.", suffix=".tmp", dir=store.parent))
    try:
        target = tmp / store.name
        # zarr v2 keeps consolidated metadata (.zmetadata) inside the format's specification
        ds.to_zarr(target, mode="w", consolidated=True, zarr_format=2)
        if store.exists():
            old = tmp / "previous"
            os.replace(store, old)
        os.replace(target, store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_yaml_atomically(entry: Entry, path: Path) -> None:
    import yaml

    doc = entry.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"source_file", "loader"}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text, mode=0o600)
