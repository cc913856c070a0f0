"""The catalog: every entry from every source, looked up by id and searched by text and facets."""

from __future__ import annotations

import difflib
import functools
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from genesis_lab import _cache_registry
from genesis_lab.catalog.entry import DOMAINS, KINDS, MARKINGS, Entry
from genesis_lab.catalog.sources import challenge_entries, plugin_source, yaml_folder_entries
from genesis_lab.errors import EntryValidationError, ParameterError, UnknownAssetError
from genesis_lab.settings import Settings, get_settings

__all__ = ["Catalog", "CatalogWarning", "get_catalog", "load_catalog"]


class CatalogWarning(UserWarning):
    """An entry could not be loaded; the rest of the catalog still is."""


@dataclass
class Catalog:
    """Entries by id, with the validation errors of the ones that could not be loaded.

    >>> from genesis_lab.catalog import get_catalog
    >>> cat = get_catalog()
    >>> hits = cat.search("neutron", kind="dataset")
    """

    entries: dict[str, Entry] = field(default_factory=dict)
    errors: list[EntryValidationError] = field(default_factory=list)

    @classmethod
    def from_entries(
        cls, entries: Iterable[Entry], errors: list[EntryValidationError] | None = None
    ) -> Catalog:
        cat = cls(errors=list(errors or []))
        for entry in entries:
            if entry.id in cat.entries:
                first = cat.entries[entry.id]
                cat.errors.append(
                    EntryValidationError(
                        f"{entry.source_file or entry.loader}: entry {entry.id!r}: field 'id' "
                        f"duplicates an entry from {first.source_file or first.loader}; "
                        "the first one is kept. Give one of them another id.",
                        source=entry.source_file or "",
                        entry=entry.id,
                        field="id",
                    )
                )
                continue
            cat.entries[entry.id] = entry
        return cat

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self.entries.values(), key=lambda e: e.id))

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.entries

    def get(self, entry_id: str, kind: str | None = None) -> Entry:
        """The entry with this id; an unknown id raises an error listing the closest ids."""
        entry = self.entries.get(entry_id)
        if entry is None or (kind is not None and entry.kind != kind):
            pool = [e.id for e in self.entries.values() if kind is None or e.kind == kind]
            close = difflib.get_close_matches(entry_id, pool, n=5, cutoff=0.4)
            if not close:
                tail = entry_id.rsplit("/", 1)[-1]
                close = [i for i in pool if tail and tail in i][:5]
            raise UnknownAssetError(entry_id, close, kind=kind or "")
        return entry

    def search(
        self,
        text: str | None = None,
        *,
        domain: str | None = None,
        kind: str | None = None,
        keyword: str | None = None,
        marking: str | None = None,
    ) -> list[Entry]:
        """Entries matching every word of ``text`` and every facet given, sorted by id.

        >>> from genesis_lab.catalog import get_catalog
        >>> [e.id for e in get_catalog().search(domain="quantum-information", kind="dataset")]
        [...]
        """
        for name, value, allowed in (
            ("domain", domain, DOMAINS),
            ("kind", kind, KINDS),
            ("marking", marking, MARKINGS),
        ):
            if value is not None and value not in allowed:
                raise ParameterError(
                    f"{name}={value!r} is not a known {name}. Allowed values: {', '.join(allowed)}"
                )
        words = (text or "").lower().split()
        kw = keyword.lower() if keyword else None
        out = []
        for entry in self:
            if domain and entry.domain != domain:
                continue
            if kind and entry.kind != kind:
                continue
            if marking and entry.marking != marking:
                continue
            if kw and kw not in (k.lower() for k in entry.keyword):
                continue
            if words:
                hay = entry.text()
                if not all(w in hay for w in words):
                    continue
            out.append(entry)
        return out


def load_catalog(settings: Settings | None = None, *, warn: bool = True) -> Catalog:
    """Read every source now: plugins, the site catalog folders and the challenge folders."""
    settings = settings or get_settings()
    errors: list[EntryValidationError] = []
    entries = [
        *plugin_source(),
        *yaml_folder_entries([*settings.catalog_paths, settings.user_catalog_dir], errors),
        *challenge_entries(settings.challenge_paths, errors),
    ]
    cat = Catalog.from_entries(entries, errors)
    if warn:
        for err in cat.errors:
            warnings.warn(str(err), CatalogWarning, stacklevel=2)
    return cat


@functools.cache
def get_catalog() -> Catalog:
    """The process-wide catalog for the current settings, loaded once.

    Inside a hub session (``service_url`` and ``hub_api_token`` set) it is the genesis service's
    view of the catalog, filtered by the caller's clearances (:mod:`genesis_lab.catalog.remote`).
    """
    from genesis_lab.catalog.remote import remote_catalog, service_configured

    if service_configured():
        return remote_catalog()
    return load_catalog()


_cache_registry.register(get_catalog.cache_clear)
