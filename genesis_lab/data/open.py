"""``open_dataset``: one entry point from a catalog id to an ``xarray.Dataset``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genesis_lab.catalog import get_catalog, load_plugin
from genesis_lab.catalog.remote import (
    RemoteCatalog,
    is_remote_entry,
    open_remote_dataset,
    open_remote_dataset_by_id,
)

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["open_dataset"]


def open_dataset(dataset_id: str, **kwargs: Any) -> xr.Dataset:
    """Open a catalog dataset as an ``xarray.Dataset`` with metadata and provenance in ``attrs``.

    >>> import genesis_lab as gl
    >>> ds = gl.open_dataset("nuclear-energy/neutron-scattering-lengths")  # doctest: +SKIP
    """
    catalog = get_catalog()
    if isinstance(catalog, RemoteCatalog):  # inside a hub session: through the genesis service
        entry, ds = open_remote_dataset_by_id(catalog, dataset_id, **kwargs)
        ds.attrs.update(entry.attrs())
        return ds
    entry = catalog.get(dataset_id, kind="dataset")
    if is_remote_entry(entry):
        ds = open_remote_dataset(entry, **kwargs)
    elif entry.loader:
        ds = load_plugin("dataset", entry.loader).open(entry, **kwargs)
    else:
        from genesis_lab.data.files import open_distribution

        ds = open_distribution(entry, **kwargs)
    ds.attrs.update(entry.attrs())
    return ds
