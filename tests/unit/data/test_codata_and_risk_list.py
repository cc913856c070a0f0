"""The CODATA dataset holds the 2022 release (older constants only on request, marked with their
release); the supply-risk dataset is labelled with the BGS Risk List it holds (2012)."""

from __future__ import annotations

import pytest

import genesis_lab as gl
from genesis_lab.catalog import get_catalog

CODATA = "quantum-information/codata-constants"
RISK = "critical-materials/element-supply-risk"


def test_codata_holds_the_2022_release_only():
    ds = gl.open_dataset(CODATA)
    assert ds.attrs["codata_release"] == "CODATA 2022"
    assert set(ds.release.values.tolist()) == {2022}
    v, u = ds.value, ds.uncertainty
    # CODATA 2022 (Mohr et al., Rev. Mod. Phys. 97, 025002): alpha = 7.297 352 5643(11) e-3
    # (2018: 7.297 352 5693(11) e-3), m_e = 9.109 383 7139(28) e-31 kg (2018: ...7015(28))
    assert float(v.sel(constant="fine-structure constant")) == pytest.approx(
        7.2973525643e-3, rel=1e-12
    )
    assert float(u.sel(constant="fine-structure constant")) == pytest.approx(1.1e-12, rel=1e-9)
    assert float(v.sel(constant="electron mass")) == pytest.approx(9.1093837139e-31, rel=1e-12)
    assert float(v.sel(constant="proton mass")) == pytest.approx(1.67262192595e-27, rel=1e-12)
    # names CODATA replaced in 2018 ("reduced Planck constant", "vacuum electric permittivity")
    # and the x units CODATA 2022 dropped are not in the 2022 set
    names = set(ds.constant.values.tolist())
    for gone in ("Planck constant over 2 pi", "electric constant", "mag. constant", "Cu x unit"):
        assert gone not in names
    assert {"reduced Planck constant", "vacuum electric permittivity"} <= names
    assert get_catalog().get(CODATA).provenance.version.endswith("CODATA 2022")


def test_superseded_constants_come_marked_with_their_last_release():
    ds = gl.open_dataset(CODATA, include_superseded=True)
    release = ds.release
    assert int(release.sel(constant="Cu x unit")) == 2018  # last listed in CODATA 2018
    assert int(release.sel(constant="Planck constant over 2 pi")) == 2014  # renamed in 2018
    assert int(release.sel(constant="electric constant")) == 2014
    assert int(release.sel(constant="fine-structure constant")) == 2022
    current = gl.open_dataset(CODATA)
    assert int((release == 2022).sum()) == current.sizes["constant"]
    assert int((release < 2022).sum()) > 0


def test_supply_risk_is_the_bgs_risk_list_2012():
    entry = get_catalog().get(RISK)
    assert "BGS Risk List 2012" in entry.provenance.version
    assert "2015" not in entry.provenance.citation
    risk = gl.open_dataset(RISK).relative_supply_risk
    # BGS Risk List 2012 (British Geological Survey, 2012): rare earths and tungsten 9.5,
    # antimony and bismuth 9.0, molybdenum, strontium and mercury 8.6; the 2015 list scores
    # tungsten 8.1 and bismuth 8.8.
    published_2012 = {"Nd": 9.5, "Dy": 9.5, "W": 9.5, "Sb": 9.0, "Bi": 9.0, "Mo": 8.6,
                      "Sr": 8.6, "Hg": 8.6}  # fmt: skip
    assert {el: float(risk.sel(element=el)) for el in published_2012} == published_2012
