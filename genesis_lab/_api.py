"""Top-level SDK functions that combine the layers below (the face of ``import genesis_lab``)."""

from __future__ import annotations

from genesis_lab.catalog import Catalog, Entry, get_catalog

__all__ = ["catalog", "search"]


def catalog() -> Catalog:
    """The catalog for this session.

    >>> import genesis_lab as gl
    >>> len(gl.catalog()) > 0
    True
    """
    return get_catalog()


def search(
    text: str | None = None,
    *,
    domain: str | None = None,
    kind: str | None = None,
    keyword: str | None = None,
) -> list[Entry]:
    """Catalog entries matching ``text`` (every word) and the facets given.

    >>> import genesis_lab as gl
    >>> [e.kind for e in gl.search("decay", kind="dataset")][:1]
    ['dataset']
    """
    return get_catalog().search(text, domain=domain, kind=kind, keyword=keyword)
