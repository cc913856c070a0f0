"""What the service shows of an entry: metadata always, distributions only to those who may read.

Distributions point at the service's own data URLs, never at paths on the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesis_lab.access.policy import Decision
from genesis_lab.catalog.entry import Entry

if TYPE_CHECKING:
    from genesis_lab.settings import DcatSettings

__all__ = ["DCAT_CONFORMS_TO", "dcat_catalog", "entry_view", "service_distributions", "zarr_format"]

DCAT_CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
_MEDIA = {
    ".nc": "application/x-netcdf",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
}


def service_distributions(entry: Entry, store: Path | None, base_url: str) -> list[dict[str, Any]]:
    """DCAT-US distributions of a readable entry: its store through the service, and any public
    ``http(s)`` URLs it already names.

    >>> service_distributions.__name__
    'service_distributions'
    """
    out: list[dict[str, Any]] = []
    data_url = f"{base_url}api/data/{entry.id}"
    if store is not None:
        fmt = next((d.format for d in entry.distribution if d.format), None)
        if store.is_dir():
            out.append(
                {
                    "@type": "dcat:Distribution",
                    "accessURL": f"{data_url}/",
                    "format": fmt or "zarr",
                    "title": "Files of the store, through the genesis service",
                }
            )
        else:
            out.append(
                {
                    "@type": "dcat:Distribution",
                    "downloadURL": f"{data_url}/{store.name}",
                    "mediaType": _MEDIA.get(store.suffix, "application/octet-stream"),
                    "format": fmt or store.suffix.lstrip("."),
                }
            )
    for d in entry.distribution:
        for key, url in (("downloadURL", d.download_url), ("accessURL", d.access_url)):
            if url and url.startswith(("http://", "https://")):
                item = {"@type": "dcat:Distribution", key: url}
                if key == "downloadURL":
                    item["mediaType"] = d.media_type or "application/octet-stream"
                if d.format:
                    item["format"] = d.format
                out.append(item)
    return out


def zarr_format(store: Path | None) -> int | None:
    """2 or 3 when ``store`` is a zarr store of that format (told to the SDK, so opening does not
    probe for the other format's metadata over the wire); None otherwise.

    >>> zarr_format(None) is None
    True
    """
    if store is None or not store.is_dir():
        return None
    if (store / "zarr.json").is_file():
        return 3
    if (store / ".zgroup").is_file() or (store / ".zmetadata").is_file():
        return 2
    return None


def entry_view(
    entry: Entry, decision: Decision, store: Path | None, base_url: str
) -> dict[str, Any]:
    """The JSON the service returns for one visible entry.

    >>> entry_view.__name__
    'entry_view'
    """
    data = entry.model_dump(
        mode="json",
        by_alias=True,
        exclude_none=True,
        exclude={"distribution", "options", "source_file"},
    )
    data["accessLevel"] = entry.access_level
    data["access"] = {"may_read": decision.may_read, "reason": decision.reason}
    if decision.may_read:
        data["distribution"] = service_distributions(entry, store, base_url)
        data["served"] = store is not None
        fmt = zarr_format(store)
        if fmt is not None:
            data["zarr_format"] = fmt
    return data


def dcat_catalog(
    items: list[tuple[Entry, Decision, Path | None]],
    base_url: str,
    site: DcatSettings | None = None,
) -> dict:
    """A DCAT-US 1.1 catalog of the entries given (distributions only where readable).

    Codes, contact and licence come from :meth:`Entry.to_dcat` with ``site`` (default: the site
    file's ``dcat`` section); a restricted marking adds to ``rights`` how to get access.

    >>> dcat_catalog([], "http://x/")["conformsTo"]
    'https://project-open-data.cio.gov/v1.1/schema'
    """
    datasets = []
    for entry, decision, store in items:
        ds = entry.to_dcat(include_distribution=False, site=site)
        if entry.access_level != "public":
            access = (
                f"Marked {entry.marking}: data only for vetted users with the {entry.marking} "
                "clearance; ask the contact point for access."
            )
            ds["rights"] = f"{access} {ds['rights']}" if ds.get("rights") else access
        if decision.may_read:
            dists = service_distributions(entry, store, base_url)
            if dists:
                ds["distribution"] = dists
        datasets.append(ds)
    return {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": DCAT_CONFORMS_TO,
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": datasets,
    }
