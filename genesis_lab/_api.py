"""Top-level SDK functions that combine the layers below (the face of ``import genesis_lab``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genesis_lab.catalog import Entry, get_catalog

if TYPE_CHECKING:
    from genesis_lab.widgets import CatalogBrowser

__all__ = ["catalog", "search"]


def catalog() -> CatalogBrowser:
    """The catalog browser for this session; in a notebook it displays as a search widget.

    >>> import genesis_lab as gl
    >>> browser = gl.catalog()
    >>> len(browser.catalog) > 0
    True
    """
    from genesis_lab.widgets import CatalogBrowser

    return CatalogBrowser(get_catalog())


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
