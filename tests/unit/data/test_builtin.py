"""Every built-in dataset opens with units and provenance; published values are spot-checked."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import genesis_lab as gl
from genesis_lab.catalog import DOMAINS, get_catalog
from genesis_lab.catalog.registry import available

BUILTIN = sorted(available("dataset"))
YEAR = 365.25 * 86400


def test_at_least_twelve_builtin_datasets_cover_all_six_domains():
    datasets = get_catalog().search(kind="dataset")
    assert len(BUILTIN) >= 12
    assert {e.domain for e in datasets if e.id in BUILTIN} == set(DOMAINS)
    for domain in DOMAINS:
        assert len([i for i in BUILTIN if i.startswith(domain + "/")]) >= 2, domain


@pytest.mark.parametrize("dataset_id", BUILTIN)
def test_builtin_dataset_opens_with_units_and_provenance(dataset_id):
    entry = get_catalog().get(dataset_id)
    ds = gl.open_dataset(dataset_id)
    assert ds.sizes and ds.data_vars
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs, f"{dataset_id}: variable {name} has no units"
    assert entry.units and set(entry.units) & set(ds.variables)
    assert ds.attrs["genesis_id"] == dataset_id
    assert re.fullmatch(r"[0-9a-f]{64}", ds.attrs["provenance_sha256"])
    assert ds.attrs["provenance_sha256"] == entry.provenance.sha256
    assert ds.attrs["access_marking"] == "public"
    assert ds.attrs["license"] and ds.attrs["provenance_agency"] and ds.attrs["provenance_citation"]
    package = entry.provenance.source.split()[2].rstrip(":")
    from importlib.metadata import version

    assert ds.attrs["provenance_version"].startswith(f"{package} {version(package)}")
    assert ds.attrs["provenance_files"]


def test_decay_data_licence_says_non_commercial():
    entry = get_catalog().get("nuclear-energy/icrp107-decay-data")
    assert "not-for-profit" in entry.license and "research" in entry.license


def test_neutron_scattering_lengths_match_sears():
    ds = gl.open_dataset("nuclear-energy/neutron-scattering-lengths")
    # Sears (1992): Ni b_c = 10.3 fm, 58Ni 14.4 fm, 62Ni -8.7 fm; Ni absorption 4.49 b
    assert float(ds.b_c.sel(nuclide="Ni")) == pytest.approx(10.3, abs=0.01)
    assert float(ds.b_c.sel(nuclide="Ni-58")) == pytest.approx(14.4, abs=0.01)
    assert float(ds.b_c.sel(nuclide="Ni-62")) == pytest.approx(-8.7, abs=0.01)
    assert float(ds.absorption.sel(nuclide="Ni")) == pytest.approx(4.49, abs=0.01)
    assert ds.b_c.attrs["units"] == "fm" and ds.absorption.attrs["units"] == "barn"


def test_neutron_scattering_lengths_without_isotopes():
    ds = gl.open_dataset("nuclear-energy/neutron-scattering-lengths", isotopes=False)
    assert (ds.A == 0).all() and "Ni" in ds.nuclide.values


def test_icrp107_half_lives_and_progeny():
    ds = gl.open_dataset("nuclear-energy/icrp107-decay-data")
    assert ds.sizes["nuclide"] == 1512
    # ICRP-107: U-238 4.468e9 y, Co-60 5.2713 y, Cs-137 30.1671 y
    assert float(ds.half_life.sel(nuclide="U-238")) / YEAR == pytest.approx(4.468e9, rel=1e-3)
    assert float(ds.half_life.sel(nuclide="Co-60")) / YEAR == pytest.approx(5.2713, rel=1e-3)
    assert float(ds.half_life.sel(nuclide="Cs-137")) / YEAR == pytest.approx(30.1671, rel=1e-3)
    u = ds.sel(nuclide="U-238")
    assert str(u.progeny[0].values) == "Th-234" and str(u.decay_mode[0].values) == "α"
    assert float(u.branching_fraction[0]) == pytest.approx(1.0, abs=1e-5)
    assert ds.half_life.attrs["units"] == "s"


def test_neutron_activation_of_cobalt():
    ds = gl.open_dataset("nuclear-energy/neutron-activation")
    assert ds.indexes["reaction"].is_unique
    # 59Co(n,g)60Co thermal cross section 37.18 b (Mughabghab); 60Co half-life 5.27 y
    co = ds.sel(reaction="Co-59 act Co-60")
    assert float(co.thermal_cross_section) == pytest.approx(37.18, rel=0.01)
    assert float(co.half_life) * 3600 / YEAR == pytest.approx(5.27, rel=0.01)


def test_supply_risk_of_rare_earths():
    ds = gl.open_dataset("critical-materials/element-supply-risk")
    risk = ds.relative_supply_risk
    assert float(risk.min()) >= 1 and float(risk.max()) <= 10
    # BGS Risk List 2015: rare earths score 9.5, the highest risk, China the top producer
    assert float(risk.sel(element="Nd")) == pytest.approx(9.5) == float(risk.max())
    assert str(ds.top_3_producers.sel(element="Dy").values).startswith("1) China")


def test_ionization_energies_match_nist_asd():
    ds = gl.open_dataset("critical-materials/ionization-energies", elements=["H", "Fe"])
    assert list(ds.element.values) == ["H", "Fe"]
    # NIST ASD: H 13.598434599702 eV, Fe I 7.9024681 eV, Fe II 16.19921 eV
    e = ds.ionization_energy
    assert float(e.sel(element="H", ion_charge=0)) == pytest.approx(13.598434599702, rel=1e-9)
    assert float(e.sel(element="Fe", ion_charge=0)) == pytest.approx(7.9024681, rel=1e-7)
    assert float(e.sel(element="Fe", ion_charge=1)) == pytest.approx(16.19921, rel=1e-6)


def test_ionization_energies_reject_unknown_element():
    with pytest.raises(gl.errors.ParameterError, match="Xx"):
        gl.open_dataset("critical-materials/ionization-energies", elements=["Xx"])


def test_janaf_alumina_formation_enthalpy():
    ds = gl.open_dataset("advanced-manufacturing/janaf-thermochemistry", species=["Al2O3"])
    assert "Al-096" in ds.species.values and set(ds.formula.values) == {"Al2O3"}
    alpha = ds.sel(species="Al-096", T=298.15)
    # JANAF 4th ed.: alpha-Al2O3 dfH(298.15 K) = -1675.692 kJ/mol, S = 50.950 J/(K mol)
    assert float(alpha.delta_f_H) == pytest.approx(-1675.692, abs=1e-3)
    assert float(alpha.S) == pytest.approx(50.950, abs=1e-3)
    assert ds.delta_f_H.attrs["units"] == "kJ/mol"


def test_janaf_unknown_species_is_a_clear_error():
    with pytest.raises(gl.errors.ParameterError, match="species"):
        gl.open_dataset("advanced-manufacturing/janaf-thermochemistry", species=["Unobtainium"])


def test_unknown_option_lists_the_allowed_ones():
    with pytest.raises(gl.errors.ParameterError, match="Allowed options: species"):
        gl.open_dataset("advanced-manufacturing/janaf-thermochemistry", temperature=300)


def test_thermophysical_melting_points_are_its90_fixed_points():
    ds = gl.open_dataset("advanced-manufacturing/element-thermophysical-properties")
    # ITS-90 freezing points: Al 933.473 K, Zn 692.677 K
    assert float(ds.melting_point.sel(element="Al")) == pytest.approx(933.473, abs=1e-3)
    assert float(ds.melting_point.sel(element="Zn")) == pytest.approx(692.677, abs=1e-3)
    assert str(ds.lattice_structure.sel(element="Fe").values) == "BCC"


def test_blosum62_and_pam250_scores():
    ds = gl.open_dataset("biotechnology/substitution-matrices", matrices=["BLOSUM62", "PAM250"])
    s = ds.score
    # Henikoff 1992: BLOSUM62 W/W 11, A/A 4, W/C -2; Dayhoff: PAM250 W/W 17
    assert float(s.sel(matrix="BLOSUM62", residue_1="W", residue_2="W")) == 11
    assert float(s.sel(matrix="BLOSUM62", residue_1="A", residue_2="A")) == 4
    assert float(s.sel(matrix="BLOSUM62", residue_1="W", residue_2="C")) == -2
    assert float(s.sel(matrix="PAM250", residue_1="W", residue_2="W")) == 17
    assert (s == s.transpose("matrix", "residue_2", "residue_1").values).all()


def test_codon_tables_standard_and_mitochondrial():
    ds = gl.open_dataset("biotechnology/codon-tables")
    aa = ds.amino_acid
    assert str(aa.sel(table_id=1, codon="ATG").values) == "M"
    assert str(aa.sel(table_id=1, codon="TGA").values) == "*"
    assert bool(ds.is_start.sel(table_id=1, codon="ATG"))
    # vertebrate mitochondrial code: TGA is Trp, AGA is a stop
    assert str(aa.sel(table_id=2, codon="TGA").values) == "W"
    assert str(aa.sel(table_id=2, codon="AGA").values) == "*"
    assert ds.sizes["codon"] == 64


def test_codata_constants():
    ds = gl.open_dataset("quantum-information/codata-constants")
    v = ds.value
    assert float(v.sel(constant="Planck constant")) == 6.62607015e-34  # exact since 2019
    assert float(v.sel(constant="elementary charge")) == 1.602176634e-19
    # CODATA 2022: electron g-factor -2.00231930436092(36)
    assert float(v.sel(constant="electron g factor")) == pytest.approx(-2.00231930436092, rel=1e-13)
    assert str(ds.unit.sel(constant="Planck constant").values) == "J Hz^-1"


def test_isotope_nuclear_spins_of_qubit_hosts():
    ds = gl.open_dataset("quantum-information/isotope-nuclear-spins", stable_only=True)
    assert not ds.is_radioactive.any()
    # Stone (2019): 29Si I=1/2, mu = -0.55529 muN; 31P I=1/2, mu = +1.13160; 28Si I=0
    assert float(ds.spin.sel(isotope="Si-29")) == 0.5
    assert float(ds.magnetic_moment.sel(isotope="Si-29")) == pytest.approx(-0.55529, rel=2e-3)
    assert float(ds.magnetic_moment.sel(isotope="P-31")) == pytest.approx(1.1316, rel=2e-3)
    assert float(ds.spin.sel(isotope="Si-28")) == 0
    assert float(ds.abundance.sel(isotope="Si-28")) == pytest.approx(92.2, abs=0.1)


def test_xray_silicon_k_edge():
    ds = gl.open_dataset(
        "semiconductors/xray-attenuation",
        elements=["Si"],
        energy_min=1800,
        energy_max=1880,
        n_energies=81,
    )
    mu = ds.mu_photo.sel(element="Si").values
    edge = float(ds.energy.values[int(np.argmax(np.diff(mu))) + 1])
    assert edge == pytest.approx(1839.0, abs=2.0)  # Si K edge, Bearden & Burr: 1838.9 eV
    assert ds.mu_total.attrs["units"] == "cm^2/g"


def test_astm_g173_integrated_irradiance():
    ds = gl.open_dataset("semiconductors/astm-g173-spectrum")
    wl = ds.wavelength.values
    # ASTM G173-03: AM1.5G 1000.4 W/m2, AM1.5D 900.1 W/m2, AM0 1348 W/m2 (280-4000 nm)
    assert np.trapezoid(ds["global"].values, wl) == pytest.approx(1000.4, rel=1e-3)
    assert np.trapezoid(ds["direct"].values, wl) == pytest.approx(900.1, rel=1e-3)
    assert np.trapezoid(ds["extraterrestrial"].values, wl) == pytest.approx(1348.0, rel=1e-3)


def test_cec_modules_ratings_are_consistent():
    ds = gl.open_dataset("semiconductors/cec-pv-modules")
    assert ds.sizes["module"] > 20000 and ds.indexes["module"].is_unique
    ratio = (ds.V_mp_ref * ds.I_mp_ref / ds.STC).values
    assert np.nanmedian(ratio) == pytest.approx(1.0, abs=1e-3)
    assert ds.STC.attrs["units"] == "W" and not math.isnan(float(ds.R_s.median()))


def test_xray_total_attenuation_includes_photoabsorption():
    """NIST FFAST (Chantler): Al at 1 keV, mu/rho total ~ 1.1e3 cm^2/g, dominated by photoabsorption."""
    import genesis_lab as gl

    ds = gl.open_dataset("semiconductors/xray-attenuation", elements=["Al"])
    al = ds.sel(element="Al").interp(energy=1000.0)
    assert float(al.mu_total) >= float(al.mu_photo)
    assert float(al.mu_total) == pytest.approx(1.1e3, rel=0.05)
