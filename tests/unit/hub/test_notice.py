"""The system-use notice (AC-8): the site setting, the acknowledgement a form must carry."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from genesis_lab.errors import SettingsError
from genesis_lab.hub.authenticator import GenesisAuthenticator
from genesis_lab.hub.notice import ACK_FIELD, DEFAULT_NOTICE, acknowledged, paragraphs
from genesis_lab.hub.site import hub_site
from genesis_lab.settings import Settings, get_settings, reset_settings


def test_the_programme_notice_is_the_default():
    assert hub_site(Settings(hub={})).login_banner == DEFAULT_NOTICE
    assert "U.S. Government" in DEFAULT_NOTICE and "monitor" in DEFAULT_NOTICE


def test_the_site_file_replaces_the_notice(tmp_path, monkeypatch):
    text = "Lab 7 systems are for approved research only.\n\nActivity is logged."
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"hub": {"login_banner": text}}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    reset_settings()
    try:
        assert hub_site(get_settings()).login_banner == text
    finally:
        reset_settings()
    assert paragraphs(text) == [p.strip() for p in text.split("\n\n")]


@pytest.mark.parametrize("value", [7, ["a", "b"], "x" * 20_001])
def test_a_bad_notice_names_the_field(value):
    with pytest.raises(SettingsError) as err:
        hub_site(Settings(hub={"login_banner": value}))
    assert "hub.login_banner" in str(err.value)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({ACK_FIELD: "yes"}, True),
        ({ACK_FIELD: ["on"]}, True),
        ({ACK_FIELD: [b"yes"]}, True),
        ({}, False),
        ({ACK_FIELD: ""}, False),
        ({ACK_FIELD: []}, False),
        ({ACK_FIELD: "off"}, False),
        ({"genesis_notice": "yes"}, False),
    ],
)
def test_only_a_ticked_box_acknowledges(form, expected):
    assert acknowledged(form) is expected


def test_paragraphs_fold_line_breaks_and_drop_blank_ones():
    assert paragraphs("  A\nb  \n\n\n\nC  ") == ["A b", "C"]
    assert paragraphs("") == []


def test_the_authenticator_gives_the_templates_the_notice_and_field():
    auth = SimpleNamespace(login_banner="One.\n\nTwo.")  # no hub database needed here
    assert GenesisAuthenticator.notice_context(auth) == {"genesis_notice": ["One.", "Two."],
                                     "notice_ack_field": ACK_FIELD}  # fmt: skip
