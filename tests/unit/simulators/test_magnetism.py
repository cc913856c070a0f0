"""2-D Ising Monte Carlo against Onsager's exact solution.

References: Onsager (1944) energy per spin U(T) = -coth(2β)[1 + (2/π)(2 tanh²(2β) - 1) K(k)],
k = 2 sinh(2β)/cosh²(2β); Yang (1952) spontaneous magnetisation (1 - sinh⁻⁴(2β))^(1/8);
Tc = 2/ln(1 + √2). Tolerances (statistical, L = 32, 2000 sweeps): 1% on |m| below Tc and on
the energy; the Binder cumulants of L = 8 and 16 cross within 5% of Tc.
"""

import numpy as np
import pytest
from scipy.special import ellipk

from genesis_lab.simulators import get_simulator
from genesis_lab.simulators.magnetism import ONSAGER_TC


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
