"""CatalogBrowser: a view over Catalog.search; typing filters, selecting shows metadata."""

import datetime as dt

import pytest
import xarray as xr

import genesis_lab as gl
from genesis_lab.catalog import Catalog, Entry, get_catalog
from genesis_lab.errors import UnknownAssetError
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


DATASET = "nuclear-energy/neutron-scattering-lengths"
SIMULATOR = "biotechnology/michaelis-menten"


def test_open_runs_the_call_in_the_code_box_and_displays_the_dataset(capsys):
    browser = gl.catalog()
    browser.search_box.value = "neutron scattering lengths"
    browser.results.value = DATASET
    assert browser.code.value == f'ds = gl.open_dataset("{DATASET}")'
    expected = gl.open_dataset(DATASET)
    capsys.readouterr()
    browser.open_button.click()
    # outside a kernel, IPython's display() prints the object it was given
    assert str(expected) in capsys.readouterr().out
    assert browser.output.outputs == ()  # no failure message
    xr.testing.assert_identical(browser._open(), expected)


def test_open_a_simulator_gives_the_simulator():
    browser = gl.catalog()
    browser.kind.value = "simulator"
    browser.results.value = SIMULATOR
    opened = browser._open()
    reference = gl.get_simulator(SIMULATOR)
    assert type(opened) is type(reference) and opened.id == SIMULATOR


def test_open_failure_is_shown_on_the_widget_not_raised(catalog):
    real = get_catalog().get(DATASET)
    browser = CatalogBrowser(Catalog.from_entries([*catalog, real]))
    browser.results.value = "semiconductors/item-0"  # not in the session catalog
    with pytest.raises(UnknownAssetError) as failure:
        gl.open_dataset("semiconductors/item-0")
    message = f"Could not open semiconductors/item-0: UnknownAssetError: {failure.value}\n"
    browser.open_button.click()  # nothing raised
    assert browser.output.outputs == ({"output_type": "stream", "name": "stdout",
                                       "text": message},)  # fmt: skip
    assert "Closest ids" in message
    # the selection and its code stay, so the user can copy the call and adapt it
    assert browser.code.value == 'ds = gl.open_dataset("semiconductors/item-0")'
    assert not browser.open_button.disabled
    # clicking again replaces the message rather than adding a second one
    assert browser._open() is None
    assert [o["text"] for o in browser.output.outputs] == [message]
    # an entry that opens clears the earlier failure
    browser.results.value = DATASET
    assert browser._open() is not None
    assert browser.output.outputs == ()


def test_gl_catalog_is_the_browser():
    browser = gl.catalog()
    assert isinstance(browser, CatalogBrowser)
    assert len(browser.results.options) == min(len(browser.catalog), 200)


def test_open_code_per_kind(catalog):
    sim = catalog.get("biotechnology/item-9")
    assert open_code(sim).startswith('sim = gl.get_simulator("biotechnology/item-9")')
