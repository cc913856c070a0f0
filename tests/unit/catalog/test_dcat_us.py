"""DCAT-US 1.1 export: a licence on every shipped dataset, rights where terms restrict use, bureau
and program codes and the contact point from the site file, and the export valid against the
DCAT-US 1.1 JSON Schema (project-open-data, public domain, shipped in tests/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genesis_lab.access.policy import Decision
from genesis_lab.catalog import get_catalog
from genesis_lab.catalog.license import dcat_license
from genesis_lab.errors import SettingsError
from genesis_lab.service.views import dcat_catalog
from genesis_lab.settings import get_settings, load_settings, reset_settings

SCHEMAS = Path(__file__).resolve().parents[2] / "fixtures" / "dcat-us-1.1"
PD_MARK = "https://creativecommons.org/publicdomain/mark/1.0/"
# Terms of each shipped dataset's data, as their publishers state them: US Government works
# (NIST, NREL, NCBI) are in the public domain; the others ship in an MIT-licensed package with
# the data's own terms (ICRP 107: educational, research and not-for-profit use only).
EXPECTED = {
    "advanced-manufacturing/element-thermophysical-properties": "https://spdx.org/licenses/MIT.html",
    "advanced-manufacturing/janaf-thermochemistry": PD_MARK,
    "biotechnology/codon-tables": PD_MARK,
    "biotechnology/substitution-matrices": PD_MARK,
    "critical-materials/element-supply-risk": "https://spdx.org/licenses/MIT.html",
    "critical-materials/ionization-energies": PD_MARK,
    "nuclear-energy/icrp107-decay-data": "https://spdx.org/licenses/MIT.html",
    "nuclear-energy/neutron-activation": PD_MARK,
    "nuclear-energy/neutron-scattering-lengths": PD_MARK,
    "quantum-information/codata-constants": PD_MARK,
    "quantum-information/isotope-nuclear-spins": "https://spdx.org/licenses/MIT.html",
    "semiconductors/astm-g173-spectrum": PD_MARK,
    "semiconductors/cec-pv-modules": PD_MARK,
    "semiconductors/xray-attenuation": PD_MARK,
}
SITE = """\
dcat:
  publisher: U.S. Department of Energy
  bureau_code: ["019:20"]
  program_code: ["019:000"]
  program_code_by_domain: {nuclear-energy: ["019:001"]}
  contact_point: {fn: Genesis data desk, hasEmail: data-desk@example.gov}
"""


def export(site=None) -> dict:
    items = [(e, Decision(True, True, "ok"), None) for e in get_catalog() if e.kind == "dataset"]
    return dcat_catalog(items, "http://h/services/genesis/", site)


def by_id(doc: dict) -> dict[str, dict]:
    return {d["identifier"]: d for d in doc["dataset"]}


@pytest.fixture
def site_file(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    reset_settings()
    return path


def schema_errors(doc: dict) -> list[str]:
    from jsonschema import Draft4Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(
        (s["id"].rstrip("#"), Resource(contents=s, specification=DRAFT4)) for s in schemas.values()
    )
    validator = Draft4Validator(
        schemas["catalog.json"], registry=registry, format_checker=FormatChecker()
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_every_shipped_dataset_has_its_licence_and_restrictions_as_rights():
    datasets = by_id(export())
    assert {i: d.get("license") for i, d in datasets.items() if i in EXPECTED} == EXPECTED
    icrp = datasets["nuclear-energy/icrp107-decay-data"]["rights"]
    assert "not-for-profit" in icrp and "educational" in icrp
    for cited in ("critical-materials/element-supply-risk",
                  "advanced-manufacturing/element-thermophysical-properties"):  # fmt: skip
        assert "cite" in datasets[cited]["rights"]
    assert "rights" not in datasets["quantum-information/codata-constants"]


def test_codes_and_contact_come_from_the_site_file(site_file):
    assert get_settings().dcat.bureau_code == ["019:20"]
    datasets = by_id(export())
    for ident, d in datasets.items():
        assert d["bureauCode"] == ["019:20"]
        nuclear = ident.startswith("nuclear-energy/")
        assert d["programCode"] == (["019:001"] if nuclear else ["019:000"])
    # a placeholder contact (an address under .invalid) is the site's desk; a real one stays
    assert datasets["nuclear-energy/icrp107-decay-data"]["contactPoint"] == {
        "@type": "vcard:Contact", "fn": "Genesis data desk", "hasEmail": "mailto:data-desk@example.gov"
    }  # fmt: skip
    assert datasets["quantum-information/codata-constants"]["contactPoint"]["hasEmail"] == (
        "mailto:constants@nist.gov"
    )


def test_without_site_codes_none_are_invented():
    for d in export()["dataset"]:
        assert "bureauCode" not in d and "programCode" not in d


def test_the_export_is_valid_dcat_us_1_1(site_file):
    doc = export()
    assert len(doc["dataset"]) >= len(EXPECTED)
    assert schema_errors(doc) == []
    # the schema does catch what a federal catalog refuses
    doc["dataset"][0].pop("bureauCode")
    doc["dataset"][1]["license"] = "Public domain (NIST)"
    assert len(schema_errors(doc)) == 2


def test_bad_codes_in_the_site_file_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text('dcat: {bureau_code: ["19:20"]}\n')
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    with pytest.raises(SettingsError, match=r"dcat.bureau_code.*'19:20'.*'019:20'"):
        load_settings()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("CC0-1.0", ("https://spdx.org/licenses/CC0-1.0.html", None)),
        ("https://example.gov/terms", ("https://example.gov/terms", None)),
        ("Public domain (US Government work, NIST); scipy is BSD-3-Clause", (PD_MARK, None)),
        ("mendeleev: MIT; CRC Handbook values: cite the source",
         ("https://spdx.org/licenses/MIT.html", "CRC Handbook values: cite the source")),
        ("Data: research use only (https://x.org/L); pkg code is MIT",
         ("https://x.org/L", "Data: research use only (https://x.org/L)")),
        ("Proprietary: internal use only", (None, "Proprietary: internal use only")),
    ],
)  # fmt: skip
def test_licence_statements(statement, expected):
    assert tuple(dcat_license(statement)) == expected
