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

__all__ = ["save_dataset"]

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
