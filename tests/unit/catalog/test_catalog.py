"""The catalog: YAML entries validated on load, bad ones reported by file/entry/field, search."""

import json
import textwrap

import pytest

from genesis_lab.catalog import Catalog, CatalogWarning, entry_from_mapping, load_catalog
from genesis_lab.cli import main
from genesis_lab.errors import EntryValidationError, UnknownAssetError
from genesis_lab.settings import reset_settings

GOOD = """
- id: semiconductors/site-wafers
  kind: dataset
  domain: semiconductors
  title: Wafer thickness survey
  description: Thickness of 300 mm wafers measured at the site fab.
  keyword: [wafer, metrology]
  modified: 2026-03-01
  publisher: {name: Example National Laboratory}
  contactPoint: {fn: Data desk, hasEmail: data@example.gov}
  license: https://creativecommons.org/publicdomain/zero/1.0/
  marking: controlled
  provenance: {source: fab-survey.csv, agency: DOE, citation: Site survey 2026, version: "1"}
  distribution:
    - {downloadURL: wafers.csv, mediaType: text/csv, format: csv}
- id: biotechnology/enzyme-screen
  kind: dataset
  domain: biotechnology
  title: Enzyme screen
  description: Activity of enzyme variants.
  keyword: enzyme
  modified: 2026-04-01
  publisher: {name: Example Bio Lab}
  contactPoint: {fn: Bio desk, hasEmail: bio@example.gov}
  license: CC0-1.0
  provenance: {source: screen.parquet, agency: DOE, citation: Screen 2026, version: "2"}
"""

BAD = """
entries:
  - id: quantum-information/bad-domain
    kind: dataset
    domain: astrology
    title: Bad
    description: Has a bad domain.
    keyword: [x]
    modified: 2026-01-01
    publisher: {name: X}
    contactPoint: {fn: X, hasEmail: x@example.gov}
    license: CC0-1.0
    provenance: {source: x, agency: X, citation: x, version: "1"}
  - id: quantum-information/fine
    kind: dataset
    domain: quantum-information
    title: Fine
    description: Loads although its neighbour is bad.
    keyword: [qubit]
    modified: 2026-01-01
    publisher: {name: X}
    contactPoint: {fn: X, hasEmail: x@example.gov}
    license: CC0-1.0
    provenance: {source: x, agency: X, citation: x, version: "1"}
"""


@pytest.fixture
def site_catalog(tmp_path, monkeypatch):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "good.yaml").write_text(textwrap.dedent(GOOD))
    (folder / "bad.yaml").write_text(textwrap.dedent(BAD))
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", str(folder))
    reset_settings()
    return folder


def test_bad_entry_is_reported_and_others_load(site_catalog):
    with pytest.warns(CatalogWarning, match="bad-domain"):
        cat = load_catalog()
    assert "quantum-information/fine" in cat
    assert "semiconductors/site-wafers" in cat
    assert "quantum-information/bad-domain" not in cat
    [err] = cat.errors
    assert err.source.endswith("bad.yaml")
    assert err.entry == "quantum-information/bad-domain"
    assert err.field == "domain"
    assert "Allowed values: advanced-manufacturing" in str(err)


def test_entry_fields_and_dcat(site_catalog):
    cat = load_catalog(warn=False)
    e = cat.get("semiconductors/site-wafers")
    assert e.access_level == "restricted public"
    dcat = e.to_dcat()
    assert dcat["accessLevel"] == "restricted public"
    assert dcat["contactPoint"]["hasEmail"] == "mailto:data@example.gov"
    assert dcat["distribution"][0]["downloadURL"] == "wafers.csv"
    assert cat.get("biotechnology/enzyme-screen").keyword == ("enzyme",)


def _site_only(cat: Catalog) -> Catalog:
    return Catalog.from_entries(e for e in cat if e.source_file)


def test_search_by_text_domain_kind_keyword(site_catalog):
    cat = _site_only(load_catalog(warn=False))
    assert [e.id for e in cat.search("wafer thickness")] == ["semiconductors/site-wafers"]
    assert [e.id for e in cat.search(domain="biotechnology", kind="dataset")] == [
        "biotechnology/enzyme-screen"
    ]
    assert [e.id for e in cat.search(keyword="QUBIT")] == ["quantum-information/fine"]
    assert cat.search("wafer", domain="biotechnology") == []


def test_search_rejects_unknown_facet_values():
    with pytest.raises(ValueError, match="Allowed values: dataset, model, simulator, challenge"):
        Catalog().search(kind="dataset-ish")


def test_unknown_id_lists_closest(site_catalog):
    cat = load_catalog(warn=False)
    with pytest.raises(UnknownAssetError, match="semiconductors/site-wafers") as info:
        cat.get("semiconductors/site-wafer")
    assert isinstance(info.value, KeyError)


def test_entry_errors_name_the_field():
    with pytest.raises(EntryValidationError) as info:
        entry_from_mapping({"id": "Not An Id"}, source="x.yaml")
    assert info.value.field == "id"
    assert "x.yaml" in str(info.value)


def test_duplicate_ids_keep_the_first(site_catalog):
    (site_catalog / "zz-dup.yaml").write_text(textwrap.dedent(GOOD))
    cat = load_catalog(warn=False)
    dups = [e for e in cat.errors if e.field == "id"]
    assert {e.entry for e in dups} == {"semiconductors/site-wafers", "biotechnology/enzyme-screen"}


def test_cli_json(site_catalog, capsys):
    assert main(["catalog", "search", "enzyme", "screen", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in out] == ["biotechnology/enzyme-screen"]
    assert main(["catalog", "show", "biotechnology/enzyme-screen", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["provenance"]["version"] == "2"
    assert main(["catalog", "show", "biotechnology/enzyme-scren"]) == 1
    assert "biotechnology/enzyme-screen" in capsys.readouterr().err
    assert main(["catalog", "validate"]) == 1
