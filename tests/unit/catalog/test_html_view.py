"""Notebook views of catalog entries: what a researcher sees when an entry is the cell's value."""

from __future__ import annotations

import html
import re

from genesis_lab.catalog import entry_from_mapping


def _entry(**extra):
    data = {
        "id": "semiconductors/demo-view",
        "kind": "dataset",
        "domain": "semiconductors",
        "title": "Band gaps <measured>",
        "description": "Gaps & offsets of III-V compounds.",
        "keyword": ["band gap", "III-V"],
        "modified": "2026-01-02",
        "publisher": {"name": "NIST"},
        "contactPoint": {"fn": "Data desk", "hasEmail": "data@nist.gov"},
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "provenance": {
            "source": "demo.csv",
            "agency": "NIST",
            "citation": "Demo 2026",
            "version": "3",
            "sha256": "ab" * 32,
        },
        "marking": "controlled",
        "units": {"gap": "eV"},
    }
    return entry_from_mapping({**data, **extra})


def _cells(page: str) -> dict[str, str]:
    rows = re.findall(r"<tr><th[^>]*>(.*?)</th><td>(.*?)</td></tr>", page)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


def test_entry_view_shows_metadata_provenance_and_access():
    entry = _entry()
    page = entry._repr_html_()
    assert "<b>Band gaps &lt;measured&gt;</b>" in page  # escaped, not markup
    cells = _cells(page)
    assert cells["description"] == "Gaps & offsets of III-V compounds."
    assert cells["access"] == "controlled (restricted public)"  # DCAT-US accessLevel of the marking
    assert cells["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert cells["source"] == "demo.csv (version 3)" and cells["sha256"] == "ab" * 32
    assert cells["units"] == "gap [eV]"
    assert "semiconductors/demo-view · dataset · semiconductors · modified 2026-01-02" in page


def test_entry_view_leaves_out_what_the_entry_does_not_have():
    entry = _entry(provenance={"source": "s", "agency": "a", "citation": "c", "version": "1"})
    cells = _cells(entry._repr_html_())
    assert "sha256" not in cells and "derived from" not in cells
