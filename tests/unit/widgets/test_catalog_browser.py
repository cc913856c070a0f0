"""CatalogBrowser: a view over Catalog.search; typing filters, selecting shows metadata."""

import datetime as dt

import pytest

import genesis_lab as gl
from genesis_lab.catalog import Catalog, Entry
from genesis_lab.widgets import CatalogBrowser, open_code


def _entry(i: int, domain: str, kind: str = "dataset", words: str = "") -> Entry:
    return Entry(
        id=f"{domain}/item-{i}",
        kind=kind,
        domain=domain,
        title=f"Item {i} {words}".strip(),
        description=f"Synthetic entry {i}.",
        keyword=["synthetic"],
        modified=dt.date(2026, 1, 1),
        publisher={"name": "Test Lab"},
        contact_point={"fn": "Desk", "hasEmail": "desk@example.gov"},
        license="CC0-1.0",
        provenance={"source": "test", "agency": "DOE", "citation": "test", "version": "1"},
    )


@pytest.fixture
def catalog() -> Catalog:
    entries = [_entry(i, "semiconductors", words="wafer") for i in range(5)]
    entries += [_entry(i, "biotechnology", words="enzyme") for i in range(5, 8)]
    entries += [_entry(9, "biotechnology", kind="simulator", words="enzyme kinetics")]
    return Catalog.from_entries(entries)


def test_typing_filters_the_list(catalog):
    browser = CatalogBrowser(catalog)
    assert len(browser.results.options) == 9
    browser.search_box.value = "enzyme"
    assert {v for _, v in browser.results.options} == {
        "biotechnology/item-5", "biotechnology/item-6", "biotechnology/item-7",
        "biotechnology/item-9",
    }  # fmt: skip
    browser.kind.value = "simulator"
    assert [v for _, v in browser.results.options] == ["biotechnology/item-9"]
    assert "1</b> of 9" in browser.count.value


def test_selecting_shows_metadata_and_code(catalog):
    browser = CatalogBrowser(catalog)
    browser.domain.value = "semiconductors"
    browser.results.value = "semiconductors/item-3"
    assert "Test Lab" in browser.details.value
    assert "accessLevel: public" in browser.details.value
    assert browser.code.value == 'ds = gl.open_dataset("semiconductors/item-3")'
    assert not browser.open_button.disabled


def test_no_hits_disables_open(catalog):
    browser = CatalogBrowser(catalog)
    browser.search_box.value = "no such words anywhere"
    assert browser.results.options == ()
    assert browser.open_button.disabled
    assert browser.details.value == ""


def test_open_failure_is_shown_not_raised(catalog):
    browser = CatalogBrowser(catalog)
    browser.results.value = "semiconductors/item-0"
    assert browser._open() is None  # the entry is not in the session catalog


def test_gl_catalog_is_the_browser():
    browser = gl.catalog()
    assert isinstance(browser, CatalogBrowser)
    assert len(browser.results.options) == min(len(browser.catalog), 200)


def test_open_code_per_kind(catalog):
    sim = catalog.get("biotechnology/item-9")
    assert open_code(sim).startswith('sim = gl.get_simulator("biotechnology/item-9")')
