"""Every shipped challenge: its headline metric against an independent reference, and every
declared parameter either moves a recorded metric or is declared ``display_only``.

References are published values written here, or a calculation of this file's own through
another route than the notebook's (another package's API, an analytic formula, an exact
diagonalisation). Notebooks run in a pool of two interpreters with parameters injected the way
papermill injects them (``fixtures.notebook_exec``); the integration suite runs each under
papermill once. A challenge folder without a reference here fails the test, by name.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures.notebook_exec import notebook_pool, run_challenge_batch

from genesis_lab.pipelines.challenge import Challenge, load_challenge
from genesis_lab.settings import REPO_DIR

CHALLENGE_DIR = REPO_DIR / "notebooks" / "challenges"
CHALLENGES = sorted(p.parent.name for p in CHALLENGE_DIR.glob("*/challenge.yaml"))


@dataclass(frozen=True)
class Case:
    """Expected headline metric for some parameters (defaults overlaid)."""

    expected: Callable[[], float]
    rel: float
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    abs: float = 0.0


# ---------------------------------------------------------------- references, one per challenge


def _activation() -> float:
    # Mughabghab, Atlas of Neutron Resonances (2006): 151Eu(n,g)152Eu (ground state) 5900 b;
    # IUPAC 2013 abundance of 151Eu 47.81 %. The largest abundance-weighted activation above 5 %.
    return 5900.0 * 0.4781


def _codata() -> float:
    # CODATA 2022: e, h, c exact; eps0 = 8.8541878188e-12 F/m; alpha = 7.2973525643e-3
    e, h, c, eps0 = 1.602176634e-19, 6.62607015e-34, 299792458.0, 8.8541878188e-12
    alpha = 7.2973525643e-3
    return abs(e**2 / (2 * eps0 * h * c) - alpha) / alpha


def _codon() -> float:
    # NCBI genetic code 2 (vertebrate mitochondrial) against code 1: AGA, AGG -> stop,
    # AUA -> Met, UGA -> Trp.
    return 4.0


def _decay() -> float:
    import radioactivedecay as rd

    data = rd.DEFAULTDATA
    half = np.array([rd.Nuclide(n, data).half_life("s") for n in data.nuclides])
    half = half[np.isfinite(half) & (half > 0)]
    return float(np.mean(half > 100 * 365.25 * 86400))


def _mm_initial_rate_fit(km, vmax, n_conc, noise, seed) -> float:
    from scipy.optimize import curve_fit
    from scipy.special import lambertw

    s0 = np.geomspace(km / 5, km * 10, n_conc)
    t1 = 2.0 / 100  # first sample of a 2 s reaction sampled at 101 times
    s_t1 = km * lambertw(s0 / km * np.exp((s0 - vmax * t1) / km)).real  # Schnell & Mendoza 1997
    rate = (s0 - s_t1) / t1
    measured = rate * (1 + noise * np.random.default_rng(seed).standard_normal(rate.size))
    (k, _), _ = curve_fit(
        lambda s, k, v: v * s / (k + s), s0, measured, p0=[np.median(s0), measured.max()]
    )
    return abs(k - km) / km


def _kremser_recovery(extraction_factor, n_stages):
    e = np.asarray(extraction_factor, float)
    return 1 - (e - 1) / (e ** (np.asarray(n_stages) + 1) - 1)


def _surrogate_rmse() -> float:
    import genesis_lab as gl

    model = gl.load_model("critical-materials/extraction-recovery-gp")
    n, d, f = np.meshgrid([2, 4, 8, 12], np.linspace(0.5, 4.5, 4), np.linspace(0.5, 4.5, 4))
    grid = {"n_stages": n.ravel(), "distribution_ratio": d.ravel(), "flow_ratio": f.ravel()}
    predicted = model.predict({k: grid[k] for k in model.features})
    truth = _kremser_recovery(grid["distribution_ratio"] * grid["flow_ratio"], grid["n_stages"])
    return float(np.sqrt(np.mean((np.asarray(predicted) - truth) ** 2)))


def _lanthanides() -> float:
    # NIST Atomic Spectra Database, third ionisation energies (eV)
    lan = [19.1773, 20.198, 21.624, 22.1, 22.3, 23.4, 24.92, 20.63, 21.91, 22.8, 22.84, 22.74,
           23.68, 25.05, 20.9594]  # fmt: skip
    tm = [24.756839, 27.4917, 29.311, 30.959, 33.668, 30.651, 33.50, 35.187, 36.841, 39.7233]
    cv = lambda x: np.std(x) / np.mean(x)  # noqa: E731
    return float(cv(tm) / cv(lan))


def _rosenthal_width(q, v, k=20.0, alpha=5e-6, t0=300.0, tm=1700.0) -> float:
    """Widest melted chord (m) on the surface of Rosenthal's moving point source (1946):
    T - T0 = q / (2 pi k R) exp(-v (xi + R) / (2 alpha)), xi along the scan, R the distance."""
    from scipy.optimize import brentq, minimize_scalar

    reach = q / (2 * math.pi * k * (tm - t0))  # the melted tail ends at xi = -reach

    def excess(r, xi):  # log of (T - T0) / (Tm - T0) at distance r, decreasing in r
        return math.log(reach / r) - v * (xi + r) / (2 * alpha)

    def half_width_squared(xi):
        lo = max(abs(xi), 1e-15)
        if excess(lo, xi) <= 0:
            return 0.0
        hi = 2 * lo
        while excess(hi, xi) > 0:
            hi *= 2
        r = brentq(excess, lo, hi, args=(xi,), xtol=1e-16, rtol=1e-14)
        return r * r - xi * xi

    best = minimize_scalar(
        lambda xi: -half_width_squared(xi),
        bounds=(-reach, 0.0),
        method="bounded",
        options={"xatol": reach * 1e-10},
    )
    return 2 * math.sqrt(-best.fun)


def _melt_window() -> float:
    widths = [
        _rosenthal_width(0.35 * p, v)
        for p in np.linspace(100, 400, 4)
        for v in np.linspace(0.4, 1.6, 4)
    ]
    return float(np.mean(np.array(widths) * 1e6 >= 100.0))


def _neutron_candidates() -> float:
    import periodictable

    count = 0
    for element in periodictable.elements:
        for iso in element:
            n = iso.neutron
            if n.total is None or not n.total > 0 or n.coherent is None:
                continue
            if iso.abundance >= 1.0 and n.absorption is not None and n.absorption <= 5.0:
                count += 1
    return float(count)


def _pn_deviation() -> float:
    # Sze & Ng: the depleted length of the full solution is the depletion approximation with
    # Vbi + V - 2kT/q; the notebook compares it with the plain approximation (Vbi + V).
    kt_q, ni, na, nd = 0.025852, 1e10, 1e16, 1e17  # kT/q at 300 K (V); cm^-3
    vbi = kt_q * math.log(na * nd / ni**2)
    v = np.linspace(0.0, 5.0, 6)
    plain, corrected = np.sqrt(vbi + v), np.sqrt(vbi + v - 2 * kt_q)
    return float(np.max(np.abs(corrected - plain) / corrected))


def _pv_r2() -> float:
    import pvlib

    cec = pvlib.pvsystem.retrieve_sam("CECMod").T
    mono = cec[cec["Technology"] == "Mono-c-Si"].iloc[:3000]
    stc, ptc = mono["STC"].astype(float).to_numpy(), mono["PTC"].astype(float).to_numpy()
    area = mono["A_c"].astype(float).to_numpy()
    keep = np.isfinite(stc) & np.isfinite(ptc) & (area > 0)
    stc, ptc = stc[keep], ptc[keep]
    fit = np.polynomial.Polynomial.fit(stc, ptc, 1)
    return float(1 - np.sum((ptc - fit(stc)) ** 2) / np.sum((ptc - ptc.mean()) ** 2))


def _reactor() -> float:
    from scipy.optimize import brentq

    # Keepin, Physics of Nuclear Kinetics (1965), U-235 thermal fission: absolute group yields
    # (n/fission) and decay constants (1/s); Lambda = 50 us and beta = 0.0065 (simulator defaults)
    yields = np.array([0.00052, 0.00346, 0.00310, 0.00624, 0.00182, 0.00066])
    lam = np.array([0.0124, 0.0305, 0.111, 0.301, 1.14, 3.01])
    a, gen, beta = yields / yields.sum(), 5e-5, 0.0065
    dollars = np.linspace(0.05, 0.5, 8)
    periods = []
    for rho in dollars * beta:
        inhour = lambda w, rho=rho: gen * w + beta * np.sum(a * w / (w + lam)) - rho  # noqa: E731
        periods.append(1 / brentq(inhour, 1e-9, 1e3, xtol=1e-14, rtol=1e-13))
    one_group = (1 - dollars) / (0.08 * dollars)
    return float(np.median(np.abs(one_group - periods) / periods))


def _ree_stages() -> float:
    recovery = _kremser_recovery(2.0, np.arange(1, 17))
    return float(np.arange(1, 17)[np.argmax(recovery >= 0.99)])


def _solar() -> float:
    import pvlib

    spectra = pvlib.spectrum.get_reference_spectra(standard="ASTM G173-03")
    wl, irr = spectra.index.to_numpy(float), spectra["global"].to_numpy(float)
    e_photon = 6.62607015e-34 * 299792458.0 / (wl * 1e-9)  # J
    flux = irr / e_photon
    total = np.trapezoid(irr, wl)
    gaps_j = np.linspace(0.5, 2.5, 201) * 1.602176634e-19
    eff = [g * np.trapezoid(np.where(e_photon >= g, flux, 0.0), wl) / total for g in gaps_j]
    return float(max(eff))


def _spin_free() -> float:
    import periodictable

    # Even-Z, even-N nuclei have spin 0 (and only they, among the stable ones); abundances IUPAC
    count = 0
    for element in periodictable.elements:
        if 0 < element.number <= 83 and element.number % 2 == 0:
            spin0 = sum(i.abundance for i in element if i.abundance > 0 and i.isotope % 2 == 0)
            count += spin0 >= 50.0
    return float(count)


def _substitution() -> float:
    from biotite.sequence.align import SubstitutionMatrix
    from scipy.stats import spearmanr

    residues = "ACDEFGHIKLMNPQRSTVWY"
    pairs = [(a, b) for i, a in enumerate(residues) for b in residues[i:]]

    def scores(name):
        table = SubstitutionMatrix.dict_from_db(name)
        return [table[p] for p in pairs]

    ref = scores("BLOSUM62")  # against the PAM matrices NCBI distributes for BLAST
    return float(max(spearmanr(ref, scores(m)).statistic for m in ("PAM30", "PAM70", "PAM250")))


def _supply_risk() -> float:
    import mendeleev
    from scipy.stats import spearmanr

    db = Path(mendeleev.__file__).parent / "elements.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT relative_supply_risk, production_concentration FROM elements "
            "WHERE relative_supply_risk IS NOT NULL AND production_concentration IS NOT NULL "
            "AND reserve_distribution IS NOT NULL"
        ).fetchall()
    risk, conc = np.array(rows, float).T
    return float(spearmanr(risk, conc).statistic)


def _tfim(n_sites: int = 8) -> float:
    # exact diagonalisation of H = -sum sz_i sz_i+1 - h sum sx_i, periodic chain, J = 1
    fields = np.linspace(0.2, 2.0, 12)
    dim = 2**n_sites
    states = np.arange(dim)
    bits = (states[:, None] >> np.arange(n_sites)) & 1
    sz = 1 - 2 * bits
    diag = -np.sum(sz * np.roll(sz, -1, axis=1), axis=1).astype(float)
    flip = np.zeros((dim, dim))
    for site in range(n_sites):
        flip[states, states ^ (1 << site)] += 1.0
    mx = []
    for h in fields:
        _, vecs = np.linalg.eigh(np.diag(diag) - h * flip)
        g = vecs[:, 0]
        mx.append(g @ flip @ g / n_sites)
    i = int(np.argmax(np.gradient(np.array(mx), fields)))
    return abs(float(fields[i]) - 1.0)


def _diffusivity() -> float:
    # CRC Handbook, silver at 300 K: k = 429 W/(m K), rho = 10.49 g/cm^3, c_p = 0.235 J/(g K)
    return 429.0 / (10.49e3 * 0.235e3) * 1e6


def _thermite(t_kelvin: float) -> float:
    # NIST-JANAF (Chase 1998), delta_f G (kJ/mol) of Al2O3(cr) and Fe2O3(cr, hematite)
    table = {1000.0: (-1361.437, -561.866), 1500.0: (-1196.617, -438.347)}
    al2o3, fe2o3 = table[t_kelvin]
    return al2o3 - fe2o3  # Fe2O3 + 2 Al -> Al2O3 + 2 Fe


def _xray() -> float:
    # NIST XCOM / Hubbell & Seltzer: mu/rho of Al 115.3 (6 keV) and 50.33 (8 keV) cm^2/g,
    # rho 2.699 g/cm^3; 50 um transmits half where mu/rho = ln 2 / (rho t), power law between
    target = math.log(2) / (2.699 * 50e-4)
    slope = math.log(50.33 / 115.3) / math.log(8 / 6)
    return 8.0 * (target / 50.33) ** (1 / slope)


KEV, MEV = 1.602176634e-16, 1.602176634e-13  # J
BREMSSTRAHLUNG = 5.35e-37  # W m^3 keV^-1/2: P = C Z_eff n_e^2 sqrt(T_e) (NRL formulary)


def _dt_reactivity(t_kev: float) -> float:
    """D-T <sigma v> (m^3/s): Bosch & Hale, Nucl. Fusion 32 (1992) 611, table IV."""
    bg, mc2 = 34.3827, 1124656.0
    c1, c2, c3, c4, c5, c6, c7 = (
        1.17302e-9, 1.51361e-2, 7.51886e-2, 4.60643e-3, 1.35e-2, -1.06750e-4, 1.366e-5
    )  # fmt: skip
    t = t_kev
    theta = t / (1 - t * (c2 + t * (c4 + t * c6)) / (1 + t * (c3 + t * (c5 + t * c7))))
    xi = (bg**2 / (4 * theta)) ** (1 / 3)
    return c1 * theta * math.sqrt(xi / (mc2 * t**3)) * math.exp(-3 * xi) * 1e-6


def _ignition_triple_product() -> float:
    # 50:50 D-T, n_e = n_i = n, T_e = T_i: alphas (3.517 MeV) balance 3nT/tau_E plus bremsstrahlung
    from scipy.optimize import minimize_scalar

    def triple(t):
        net = _dt_reactivity(t) / 4 * 3.517 * MEV - BREMSSTRAHLUNG * math.sqrt(t)
        return t * 3 * t * KEV / net

    best = minimize_scalar(triple, bounds=(8.0, 30.0), method="bounded", options={"xatol": 1e-8})
    return float(best.fun)


def _q_confinement() -> float:
    # P_fus / (3nT/tau + P_brems - P_alpha) = Q at n = 1e20 m^-3, T = 10 keV, Q = 10
    n, t, q = 1e20, 10.0, 10.0
    fusion = n**2 / 4 * _dt_reactivity(t) * 17.589 * MEV
    alpha = n**2 / 4 * _dt_reactivity(t) * 3.517 * MEV
    return 3 * n * t * KEV / (fusion / q + alpha - BREMSSTRAHLUNG * n**2 * math.sqrt(t))


REFERENCES: dict[str, list[Case]] = {
    "fusion-ignition-triple-product": [
        Case(_ignition_triple_product, 1e-3, "Bosch-Hale D-T, NRL bremsstrahlung, own minimum")
    ],
    "fusion-q-confinement": [Case(_q_confinement, 1e-6, "0-D power balance, Bosch-Hale D-T")],
    "activation-screening": [Case(_activation, 0.02, "Mughabghab 2006, IUPAC 2013: 151Eu")],
    "codata-consistency": [Case(_codata, 1e-6, "CODATA 2022 alpha from e, h, c, eps0")],
    "codon-table-variants": [Case(_codon, 0.0, "NCBI genetic code 2")],
    "decay-halflife-census": [Case(_decay, 1e-12, "radioactivedecay's own ICRP-107 reader")],
    "enzyme-kinetics-fit": [
        Case(lambda: _mm_initial_rate_fit(0.5, 0.1, 8, 0.03, 7), 1e-3, "Lambert-W MM solution"),
        Case(
            lambda: _mm_initial_rate_fit(2.0, 0.1, 8, 0.0, 7),
            0.0,
            "Lambert-W MM solution, no noise",
            params={"noise": 0.0, "km": 2.0},
            abs=1e-6,
        ),
    ],
    "extraction-surrogate-check": [Case(_surrogate_rmse, 1e-3, "Kremser equation as truth")],
    "lanthanide-ionization": [Case(_lanthanides, 0.03, "NIST ASD third ionisation energies")],
    "melt-pool-scaling": [Case(_melt_window, 0.0, "Rosenthal (1946) solved here")],
    "neutron-contrast": [Case(_neutron_candidates, 0.0, "periodictable's neutron API")],
    "pn-depletion-width": [Case(_pn_deviation, 0.03, "Sze & Ng -2kT/q correction")],
    "pv-module-rating": [Case(_pv_r2, 1e-9, "pvlib.retrieve_sam CEC modules")],
    "reactor-period": [Case(_reactor, 1e-4, "inhour equation, Keepin U-235 groups")],
    "ree-cascade-design": [Case(_ree_stages, 0.0, "Kremser equation")],
    "solar-bandgap-limit": [Case(_solar, 1e-4, "pvlib ASTM G173 global, own integral")],
    "spin-free-hosts": [Case(_spin_free, 0.0, "even-even spin 0, IUPAC abundances")],
    "substitution-matrix-agreement": [Case(_substitution, 1e-9, "biotite matrices, scipy")],
    "supply-risk-drivers": [Case(_supply_risk, 1e-9, "mendeleev elements.db, own SQL")],
    "tfim-critical-field": [Case(_tfim, 1e-9, "exact diagonalisation here", abs=1e-12)],
    "thermal-diffusivity-screen": [Case(_diffusivity, 0.01, "CRC: silver k/(rho c_p)")],
    "thermite-ellingham": [
        Case(lambda: _thermite(1500.0), 1e-6, "NIST-JANAF at 1500 K"),
        Case(lambda: _thermite(1000.0), 1e-6, "NIST-JANAF at 1000 K", {"temperature": 1000.0}),
    ],
    "xray-filter-design": [Case(_xray, 0.01, "NIST XCOM mu/rho of Al")],
}

PROBES: dict[str, dict[str, Any]] = {
    # values that keep a probe valid or quick; every other parameter moves half-way to a bound
    "ree-cascade-design": {"max_stages": 4},  # below the 6 stages needed: the search limit bites
    "spin-free-hosts": {"max_z": 40},
    "tfim-critical-field": {"field_min": 0.5, "n_fields": 8, "n_sites": 6},
    "melt-pool-scaling": {"n_grid": 3},
    "enzyme-kinetics-fit": {"n_concentrations": 5},
    "extraction-surrogate-check": {"n_grid": 3},
    "thermite-ellingham": {"temperature": 1000.0},
}


def probe_value(challenge: Challenge, name: str) -> Any:
    """Another allowed value of ``name``: an override, another choice, or half-way to a bound."""
    p = challenge.parameters[name]
    if name in PROBES.get(challenge.id, {}):
        return PROBES[challenge.id][name]
    if p.choices is not None:
        return next(c for c in p.choices if c != p.default)
    if p.type == "bool":
        return not p.default
    if p.type == "str":
        pytest.fail(f"{challenge.id}: free-text parameter {name!r} needs a probe in PROBES")
    d = p.default
    v = d + (p.max - d) / 2 if p.max is not None and p.max > d else d - (d - p.min) / 2
    return round(v) if p.type == "int" else v


def _differs(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [
        k
        for k in sorted(set(a) | set(b))
        if k not in a or k not in b or not math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12)
    ]


class Runs:
    """Every notebook execution the selected tests need: one batch per challenge (so each
    challenge's first-time loads happen once), the batches spread over a pool of two."""

    def __init__(self, selected: list[str]) -> None:
        self.pool = notebook_pool(2)
        self.order: dict[str, list[tuple]] = {}
        self.futures: dict[str, Any] = {}
        for cid in selected:
            ch = load_challenge(CHALLENGE_DIR / cid)
            sets = [{}, *(c.params for c in REFERENCES.get(cid, []))]
            sets += [{name: probe_value(ch, name)} for name in ch.parameters]
            keys = list(dict.fromkeys(tuple(sorted(p.items())) for p in sets))
            self.order[cid] = keys
            self.futures[cid] = self.pool.submit(
                run_challenge_batch, str(ch.notebook_path), [dict(k) for k in keys]
            )

    def metrics(self, ch: Challenge, params: dict[str, Any]) -> dict[str, Any]:
        results = self.futures[ch.id].result(timeout=900)
        out = results[self.order[ch.id].index(tuple(sorted(params.items())))]
        if isinstance(out, BaseException):
            raise AssertionError(f"{ch.id} with {params or 'its defaults'} failed: {out!r}")
        return out


@pytest.fixture(scope="module")
def runs(request):
    selected = {
        item.callspec.params["cid"]
        for item in request.session.items
        if item.module is request.module
        and hasattr(item, "callspec")
        and "cid" in item.callspec.params
    }
    r = Runs(sorted(selected))
    yield r
    r.pool.shutdown(cancel_futures=True)


def test_every_challenge_folder_has_a_reference():
    missing = [cid for cid in CHALLENGES if cid not in REFERENCES]
    assert not missing, f"challenges without a reference in this file: {', '.join(missing)}"
    stale = [cid for cid in REFERENCES if cid not in CHALLENGES]
    assert not stale, f"references for challenges that no longer exist: {', '.join(stale)}"


@pytest.mark.parametrize("cid", CHALLENGES)
def test_headline_metric_matches_its_reference(cid, runs):
    if cid not in REFERENCES:
        pytest.fail(f"challenge {cid!r} has no reference in REFERENCES")
    ch = load_challenge(CHALLENGE_DIR / cid)
    headline = ch.primary.name
    for case in REFERENCES[cid]:
        value = runs.metrics(ch, case.params)[headline]
        expected = case.expected()
        error = abs(value - expected) / abs(expected) if expected else abs(value - expected)
        print(f"{cid} {headline} {case.params or 'defaults'}: value {value:.6g}, reference "
              f"{expected:.6g} ({case.source}), relative error {error:.2e}")  # fmt: skip
        assert value == pytest.approx(expected, rel=case.rel, abs=case.abs), case.source


@pytest.mark.parametrize("cid", CHALLENGES)
def test_each_parameter_moves_a_metric_or_is_display_only(cid, runs):
    ch = load_challenge(CHALLENGE_DIR / cid)
    base = runs.metrics(ch, {})
    dead, moved_display = [], []
    for name, p in ch.parameters.items():
        value = probe_value(ch, name)
        changed = _differs(base, runs.metrics(ch, {name: value}))
        if p.display_only and changed:
            moved_display.append(f"{name}={value!r} changed {', '.join(changed)}")
        elif not p.display_only and not changed:
            dead.append(f"{name}={value!r} (default {p.default!r})")
    assert not dead, f"{cid}: no metric changes with {'; '.join(dead)}"
    assert not moved_display, f"{cid}: display_only parameters move metrics: {moved_display}"
