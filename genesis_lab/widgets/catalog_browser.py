"""``CatalogBrowser``: search and filter the catalog in a notebook, inspect an entry, open it.

A view over :class:`genesis_lab.catalog.Catalog`; searching is ``Catalog.search``, opening is the
SDK call shown in the code box.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from genesis_lab.catalog import DOMAINS, KINDS, Catalog, Entry, get_catalog
from genesis_lab.widgets.markup import table_html

__all__ = ["CatalogBrowser", "open_code"]

ALL = "(all)"
MAX_LISTED = 200
# every part shrinks to its output area: the filters wrap onto a second line, long ids and
# checksums wrap inside their cells
FILL = {"width": "auto", "max_width": "100%"}


def open_code(entry: Entry) -> str:
    """The SDK code that opens an entry.

    >>> from genesis_lab.catalog import get_catalog
    >>> open_code(next(iter(get_catalog())))  # doctest: +SKIP
    'ds = gl.open_dataset("...")'
    """
    if entry.kind == "dataset":
        return f'ds = gl.open_dataset("{entry.id}")'
    if entry.kind == "simulator":
        return f'sim = gl.get_simulator("{entry.id}")\nsim.run(seed=0)'
    if entry.kind == "model":
        return f'model = gl.load_model("{entry.id}")'
    challenge = entry.options.get("challenge", entry.name)
    return f'from genesis_lab import pipelines\nrun = pipelines.run("{challenge}")'


def _details_html(entry: Entry) -> str:
    esc = html.escape
    prov = entry.provenance
    rows = [
        ("Id", entry.id),
        ("Kind", entry.kind),
        ("Domain", entry.domain),
        ("Marking", f"{entry.marking} (accessLevel: {entry.access_level})"),
        ("Keywords", ", ".join(entry.keyword)),
        ("Publisher", entry.publisher.name),
        ("Contact", f"{entry.contact_point.fn} <{entry.contact_point.has_email}>"),
        ("Licence", entry.license),
        ("Modified", entry.modified.isoformat()),
        ("Source", prov.source),
        ("Agency", prov.agency),
        ("Citation", prov.citation),
        ("Version", prov.version),
        ("sha256", prov.sha256 or "—"),
    ]
    return (
        f"<div class='genesis-entry' style='overflow-wrap:anywhere;max-width:100%;line-height:1.45'>"
        f"<h4>{esc(entry.title)}</h4>"
        f"<p>{esc(entry.description)}</p>{table_html(rows)}</div>"
    )


class CatalogBrowser(w.VBox):
    """Search the catalog by text, domain and kind; show an entry; run the code that opens it.

    >>> import genesis_lab as gl
    >>> browser = gl.catalog()
    >>> browser.search_box.value = "decay"
    >>> browser.hits  # doctest: +SKIP
    """

    def __init__(self, catalog: Catalog | None = None, **kwargs: Any):
        self.catalog = catalog if catalog is not None else get_catalog()
        self.search_box = w.Text(
            placeholder="search title, description, keywords…",
            description="Search",
            continuous_update=True,
            layout=w.Layout(flex="1 1 22em", width="auto", min_width="14em"),
        )
        filter_layout = {"flex": "0 1 18em", "width": "auto", "min_width": "12em"}
        self.domain = w.Dropdown(
            options=[ALL, *DOMAINS], value=ALL, description="Domain", layout=filter_layout
        )
        self.kind = w.Dropdown(
            options=[ALL, *KINDS], value=ALL, description="Kind", layout=filter_layout
        )
        self.count = w.HTML()
        self.results = w.Select(options=[], rows=12, layout=w.Layout(**FILL))
        self.details = w.HTML(layout=w.Layout(**FILL))
        self.code = w.Textarea(disabled=True, layout=w.Layout(height="4em", **FILL))
        self.open_button = w.Button(description="Open", icon="play", disabled=True)
        self.output = w.Output()
        self.hits: list[Entry] = []
        for control in (self.search_box, self.domain, self.kind):
            control.observe(self._refresh, names="value")
        self.results.observe(self._select, names="value")
        self.open_button.on_click(self._open)
        self.search_box.add_class("genesis-catalog-search")
        self.results.add_class("genesis-catalog-results")
        self.open_button.add_class("genesis-catalog-open")
        super().__init__(
            [
                w.HBox(
                    [self.search_box, self.domain, self.kind],
                    layout=w.Layout(flex_flow="row wrap", **FILL),
                ),
                self.count,
                self.results,
                self.details,
                self.code,
                self.open_button,
                self.output,
            ],
            **{"layout": w.Layout(**FILL), **kwargs},
        )
        self.add_class("genesis-catalog-browser")
        self._refresh()

    @property
    def selected(self) -> Entry | None:
        """The entry selected in the list, if any."""
        return self.catalog.entries.get(self.results.value) if self.results.value else None

    def _refresh(self, _change: Any = None) -> None:
        self.hits = self.catalog.search(
            self.search_box.value or None,
            domain=None if self.domain.value == ALL else self.domain.value,
            kind=None if self.kind.value == ALL else self.kind.value,
        )
        shown = self.hits[:MAX_LISTED]
        self.results.options = [(f"{e.id} — {e.title}", e.id) for e in shown]
        more = f" (first {MAX_LISTED} shown)" if len(self.hits) > MAX_LISTED else ""
        self.count.value = f"<b>{len(self.hits)}</b> of {len(self.catalog)} entries{more}"
        if self.results.value is None and shown:
            self.results.value = shown[0].id
        elif self.results.value is None:
            self._select()

    def _select(self, _change: Any = None) -> None:
        entry = self.selected
        self.details.value = _details_html(entry) if entry else ""
        self.code.value = open_code(entry) if entry else ""
        self.open_button.disabled = entry is None

    def _open(self, _button: Any = None) -> Any:
        """Open the selected entry with the SDK call shown in the code box; show the result."""
        entry = self.selected
        if entry is None:
            return None
        self.output.clear_output()
        self.output.outputs = ()
        with self.output:
            try:
                result = _open_entry(entry)
            except Exception as exc:  # shown on the widget, not as a traceback
                # kept in the widget's state, so it shows whichever cell the click came from
                self.output.append_stdout(
                    f"Could not open {entry.id}: {type(exc).__name__}: {exc}\n"
                )
                return None
            from IPython.display import display

            display(result)
        return result


def _open_entry(entry: Entry) -> Any:
    import genesis_lab as gl

    if entry.kind == "dataset":
        return gl.open_dataset(entry.id)
    if entry.kind == "simulator":
        return gl.get_simulator(entry.id)
    if entry.kind == "model":
        return gl.load_model(entry.id)
    return entry
