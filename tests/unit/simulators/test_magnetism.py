"""2-D Ising Monte Carlo against Onsager's exact solution.

References: Onsager (1944) energy per spin U(T) = -coth(2β)[1 + (2/π)(2 tanh²(2β) - 1) K(k)],
k = 2 sinh(2β)/cosh²(2β); Yang (1952) spontaneous magnetisation (1 - sinh⁻⁴(2β))^(1/8);
Tc = 2/ln(1 + √2). Tolerances (statistical, L = 32, 2000 sweeps): 1% on |m| below Tc and on
the energy; the Binder cumulants of L = 8 and 16 cross within 5% of Tc. With L = 64 and 3000
sweeps, |m| within 0.2% of Yang's value at T = 1.5 and 2.0, within four of its own standard
errors; with the defaults the reported standard error stays under 1% away from Tc (below
0.9 Tc for |m|, above 1.1 Tc for the energy) and is an honest error bar (independent seeds
scatter by about that much).
"""

import numpy as np
import pytest
from scipy.special import ellipk

from genesis_lab.simulators import get_simulator
from genesis_lab.simulators.magnetism import ONSAGER_TC, blocking_stderr


def onsager_energy(t):
    b = 1.0 / t
    k = 2 * np.sinh(2 * b) / np.cosh(2 * b) ** 2
    return -1 / np.tanh(2 * b) * (1 + 2 / np.pi * (2 * np.tanh(2 * b) ** 2 - 1) * ellipk(k**2))


def yang_magnetisation(t):
    return (1 - np.sinh(2 / t) ** -4) ** 0.125


@pytest.fixture(scope="module")
def runs():
    sim = get_simulator("critical-materials/ising-ferromagnet")
    return sim.run_batch(
        {"temperature": [1.5, 2.0, 3.5], "n_sweeps": 2000, "n_equilibration": 500}, seed=2026
    )


@pytest.mark.parametrize(("i", "t"), [(0, 1.5), (1, 2.0)])
def test_spontaneous_magnetisation_below_tc(runs, i, t):
    assert runs["magnetisation"].values[i] == pytest.approx(yang_magnetisation(t), rel=0.01)


@pytest.mark.parametrize(("i", "t"), [(0, 1.5), (1, 2.0), (2, 3.5)])
def test_energy_per_spin(runs, i, t):
    assert runs["energy_per_spin"].values[i] == pytest.approx(onsager_energy(t), rel=0.01)


def test_disordered_above_tc(runs):
    assert runs["magnetisation"].values[2] < 0.1


def test_binder_cumulants_cross_near_onsager_tc():
    sim = get_simulator("critical-materials/ising-ferromagnet")
    temps = [0.95 * ONSAGER_TC, 1.05 * ONSAGER_TC]
    small = sim.run_batch({"temperature": temps, "lattice_size": 8, "n_sweeps": 4000}, seed=3)
    large = sim.run_batch({"temperature": temps, "lattice_size": 16, "n_sweeps": 4000}, seed=3)
    below, above = 0, 1
    # below Tc the larger lattice is more ordered (U closer to 2/3), above Tc less
    assert large["binder_cumulant"].values[below] > small["binder_cumulant"].values[below]
    assert large["binder_cumulant"].values[above] < small["binder_cumulant"].values[above]


@pytest.mark.slow
def test_magnetisation_within_two_permille_of_yang_at_or_below_two():
    sim = get_simulator("critical-materials/ising-ferromagnet")
    temps = np.array([1.5, 2.0])
    ds = sim.run_batch(
        {"temperature": temps, "lattice_size": 64, "n_sweeps": 3000, "n_equilibration": 300},
        seed=7,
    )
    m, se = ds["magnetisation"].values, ds["magnetisation_stderr"].values
    exact = yang_magnetisation(temps)
    np.testing.assert_allclose(m, exact, rtol=2e-3)
    assert (np.abs(m - exact) < 4 * se + 1e-5).all()
    assert ds["magnetisation_stderr"].attrs["units"] == "1"


@pytest.mark.slow
def test_default_sweeps_keep_the_error_under_one_percent_and_the_bar_is_honest():
    sim = get_simulator("critical-materials/ising-ferromagnet")
    assert sim.parameter("n_sweeps").default == 4000
    temps = [1.8, 2.0, 2.6]  # away from Tc = 2.269: below 0.9 Tc and above 1.1 Tc
    seeds = [sim.run_batch({"temperature": temps}, seed=s) for s in (11, 12, 13)]
    m = np.array([d["magnetisation"].values[:2] for d in seeds])
    se = np.array([d["magnetisation_stderr"].values[:2] for d in seeds])
    assert (se / m < 0.01).all()
    assert (np.abs(m - yang_magnetisation(np.array(temps[:2]))) / m < 0.01).all()
    e = np.array([d["energy_per_spin"].values[2] for d in seeds])
    e_se = np.array([d["energy_stderr"].values[2] for d in seeds])
    assert (e_se / np.abs(e) < 0.01).all()
    assert (np.abs(e / onsager_energy(2.6) - 1) < 0.01).all()
    # the reported error is the scatter of independent runs to within a factor of about 2.5
    scatter = m.std(axis=0, ddof=1)
    ratio = scatter / se.mean(axis=0)
    assert ((ratio > 0.25) & (ratio < 2.5)).all(), ratio


def test_blocking_grows_the_error_of_correlated_data():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(1, 8192))
    ar = np.empty_like(noise)  # AR(1) with φ = 0.9: τ_int = (1 + φ)/(1 - φ) = 19
    ar[:, 0] = noise[:, 0]
    for i in range(1, noise.shape[1]):
        ar[:, i] = 0.9 * ar[:, i - 1] + noise[:, i]
    naive = ar.std(ddof=1) / np.sqrt(ar.shape[1])
    exact = np.sqrt(19) * naive  # sqrt(τ_int) times the naive error
    assert float(blocking_stderr(ar)[0]) == pytest.approx(exact, rel=0.3)
