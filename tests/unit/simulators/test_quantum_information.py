"""Transverse-field Ising chain by exact diagonalisation against the free-fermion solution.

References: Pfeuty (1970); Lieb, Schultz & Mattis (1961). Periodic chain: E0 = -Σ_k
sqrt(J² + h² - 2Jh cos k), k = π(2m-1)/N (even-parity sector). Open chain: E0 = -Σ sqrt(eig(T Tᵀ))
with T bidiagonal (h on the diagonal, J above). Tolerance 1e-9 relative; <σx> against the
Hellmann–Feynman derivative -dE0/dh / N of the free-fermion energy (1e-6).
"""

import numpy as np
import pytest

from genesis_lab.simulators import get_simulator


def free_fermion_periodic(n, j, h):
    k = np.pi * (2 * np.arange(1, n + 1) - 1) / n
    return -np.sum(np.sqrt(j**2 + h**2 - 2 * j * h * np.cos(k)))


def free_fermion_open(n, j, h):
    t = np.diag(np.full(n, h)) + np.diag(np.full(n - 1, j), 1)
    return -np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(t @ t.T), 0.0, None)))


@pytest.mark.parametrize("n_sites", [4, 5, 8, 11])
@pytest.mark.parametrize("field", [0.2, 1.0, 3.0])
def test_periodic_energy_matches_free_fermions(n_sites, field):
    ds = get_simulator("quantum-information/transverse-field-ising").run(
        {"n_sites": n_sites, "field": field, "coupling": 1.3}
    )
    ref = free_fermion_periodic(n_sites, 1.3, field)
    assert float(ds["ground_state_energy"]) == pytest.approx(ref, rel=1e-9)
    assert float(ds["energy_per_site"]) == pytest.approx(ref / n_sites, rel=1e-9)


@pytest.mark.parametrize("n_sites", [3, 8])
@pytest.mark.parametrize("field", [0.5, 1.0, 2.0])
def test_open_energy_matches_free_fermions(n_sites, field):
    ds = get_simulator("quantum-information/transverse-field-ising").run(
        {"n_sites": n_sites, "field": field, "boundary": "open"}
    )
    assert float(ds["ground_state_energy"]) == pytest.approx(
        free_fermion_open(n_sites, 1.0, field), rel=1e-9
    )


def test_transverse_magnetisation_is_the_energy_derivative():
    sim = get_simulator("quantum-information/transverse-field-ising")
    h = np.array([0.4, 1.0, 1.7])
    ds = sim.run_batch({"n_sites": 8, "field": h})
    step = 1e-5
    expected = [
        -(free_fermion_periodic(8, 1.0, x + step) - free_fermion_periodic(8, 1.0, x - step))
        / (2 * step)
        / 8
        for x in h
    ]
    np.testing.assert_allclose(ds["transverse_magnetisation"].values, expected, rtol=1e-6)


def test_gap_closes_in_the_ordered_phase_and_opens_in_the_paramagnet():
    sim = get_simulator("quantum-information/transverse-field-ising")
    ds = sim.run_batch({"n_sites": 8, "field": [0.1, 4.0]})
    gap = ds["gap"].values
    assert gap[0] < 1e-6
    # paramagnet: the lowest excitation is one fermion at k = 0 (odd parity), 2(h - J), up to
    # corrections exponentially small in N
    assert gap[1] == pytest.approx(2 * (4.0 - 1.0), rel=1e-4)
