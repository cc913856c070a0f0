"""The access decision for every marking and kind of caller, and identities built from hub models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genesis_lab.access.policy import (
    Identity,
    decide,
    identity_from_hub_model,
    required_clearance,
)
from genesis_lab.catalog import MARKINGS, Entry

GROUPS = {
    "controlled": "clearance-controlled",
    "proprietary": "clearance-proprietary",
    "export-controlled": "clearance-export-controlled",
}


def entry(marking: str) -> Entry:
    return Entry(
        id=f"semiconductors/{marking}-demo",
        kind="dataset",
        domain="semiconductors",
        title="Demo",
        description="A demo.",
        keyword=["demo"],
        modified="2026-01-01",
        publisher={"name": "NIST"},
        contactPoint={"fn": "Help", "hasEmail": "help@nist.gov"},
        license="CC0-1.0",
        provenance={"source": "demo", "agency": "NIST", "citation": "demo", "version": "1"},
        marking=marking,
    )


UNVETTED = Identity("u")
VETTED = Identity("v", vetted=True)

# (identity, marking) -> (visible, may_read): the table of issue 8, item 2.
EXPECTED = {
    ("unvetted", "public"): (True, True),
    ("unvetted", "controlled"): (True, False),
    ("unvetted", "proprietary"): (False, False),
    ("unvetted", "export-controlled"): (False, False),
    ("vetted", "public"): (True, True),
    ("vetted", "controlled"): (True, False),
    ("vetted", "proprietary"): (False, False),
    ("vetted", "export-controlled"): (False, False),
}
for cleared in ("controlled", "proprietary", "export-controlled"):
    for marking in MARKINGS:
        ok = marking in ("public", cleared)
        EXPECTED[(cleared, marking)] = (ok or marking == "controlled", ok)


def who(name: str) -> Identity:
    if name == "unvetted":
        return UNVETTED
    if name == "vetted":
        return VETTED
    return Identity(name, vetted=True, clearances=frozenset({name}))


@pytest.mark.parametrize(("user", "marking"), sorted(EXPECTED))
def test_matrix(user, marking):
    d = decide(who(user), entry(marking))
    assert (d.visible, d.may_read) == EXPECTED[(user, marking)]
    assert d.reason


def test_unvetted_user_with_a_clearance_still_cannot_read():
    ident = Identity("x", vetted=False, clearances=frozenset({"controlled", "proprietary"}))
    assert decide(ident, entry("controlled")).may_read is False
    assert "not vetted" in decide(ident, entry("controlled")).reason
    assert decide(ident, entry("proprietary")).visible is False


def test_admin_is_vetted_but_not_cleared():
    admin = Identity("root", admin=True)
    assert decide(admin, entry("controlled")).visible
    assert not decide(admin, entry("controlled")).may_read
    assert "clearance" in decide(admin, entry("controlled")).reason
    assert not decide(admin, entry("export-controlled")).visible


@given(
    vetted=st.booleans(),
    admin=st.booleans(),
    clearances=st.sets(st.sampled_from(MARKINGS)),
    marking=st.sampled_from(MARKINGS),
)
def test_invariants(vetted, admin, clearances, marking):
    ident = Identity("h", vetted=vetted, admin=admin, clearances=frozenset(clearances))
    d = decide(ident, entry(marking))
    # reading implies seeing; hidden markings are seen only by those who may read them
    assert not d.may_read or d.visible
    if marking in ("proprietary", "export-controlled"):
        assert d.visible == d.may_read
    if marking in ("public", "controlled"):
        assert d.visible
    expected_read = marking == "public" or ((vetted or admin) and marking in clearances)
    assert d.may_read == expected_read


def test_required_clearance():
    assert required_clearance("public", GROUPS) is None
    assert required_clearance("export-controlled", GROUPS) == "clearance-export-controlled"
    with pytest.raises(ValueError, match="Allowed values"):
        required_clearance("secret", GROUPS)


@pytest.mark.parametrize(
    ("model", "vetted", "clearances"),
    [
        ({"name": "a", "groups": []}, False, set()),
        ({"name": "a", "groups": ["vetted"]}, True, set()),
        ({"name": "a", "groups": ["vetted", "clearance-proprietary"]}, True, {"proprietary"}),
        ({"name": "a", "groups": ["clearance-controlled"]}, False, {"controlled"}),
        ({"name": "a", "admin": True, "groups": []}, True, set()),
        (
            {
                "name": "a",
                "groups": [],
                "scopes": ["custom:genesis:vetted", "custom:genesis:clearance:export-controlled"],
            },
            True,
            {"export-controlled"},
        ),
        ({"name": "a", "groups": ["controlled"]}, False, set()),  # marking name is not the group
        ({"name": "a"}, False, set()),
    ],
)
def test_identity_from_hub_model(model, vetted, clearances):
    ident = identity_from_hub_model(model, clearance_groups=GROUPS, vetted_group="vetted")
    assert ident.vetted is vetted
    assert set(ident.clearances) == clearances
    assert ident.name == "a"


def test_no_vetted_group_means_every_hub_user_is_vetted():
    ident = identity_from_hub_model({"name": "a"}, clearance_groups=GROUPS, vetted_group=None)
    assert ident.vetted


def test_site_specific_group_names():
    groups = {"controlled": "cui-readers"}
    ident = identity_from_hub_model(
        {"name": "a", "groups": ["vetted", "cui-readers", "clearance-controlled"]},
        clearance_groups=groups,
        vetted_group="vetted",
    )
    assert ident.clearances == frozenset({"controlled"})
