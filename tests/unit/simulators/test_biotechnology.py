"""Michaelis–Menten against its closed form S(t) = Km W((S0/Km) exp((S0 - Vmax t)/Km)).

Reference: Schnell & Mendoza (1997), J. Theor. Biol. 187, 207. Tolerance: 1e-7 relative on the
whole trajectory (RK4, 2000 steps), 1e-7 on the half-conversion time (S0/2 + Km ln 2)/Vmax.
"""

import numpy as np
import pytest
from scipy.special import lambertw

from genesis_lab.simulators import get_simulator


def lambert_substrate(t, s0, km, vmax):
    return km * np.real(lambertw(s0 / km * np.exp((s0 - vmax * t) / km)))


@pytest.mark.parametrize(
    ("s0", "km", "vmax", "t_end"),
    [(2.0, 0.5, 0.1, 60.0), (0.1, 5.0, 0.01, 100.0), (50.0, 1.0, 2.0, 40.0)],
)
def test_trajectory_matches_lambert_w(s0, km, vmax, t_end):
    ds = get_simulator("biotechnology/michaelis-menten").run(
        {"s0": s0, "km": km, "vmax": vmax, "t_end": t_end}
    )
    ref = lambert_substrate(ds["time"].values, s0, km, vmax)
    np.testing.assert_allclose(ds["substrate"].values, ref, rtol=1e-7, atol=1e-12 * s0)
    np.testing.assert_allclose(ds["product"].values + ds["substrate"].values, s0, rtol=1e-12)


def test_half_conversion_time_matches_closed_form_in_a_batch():
    sim = get_simulator("biotechnology/michaelis-menten")
    s0 = np.array([0.5, 2.0, 8.0])
    km = np.array([0.2, 0.5, 3.0])
    ds = sim.run_batch({"s0": s0, "km": km, "vmax": 0.2, "t_end": 200.0})
    expected = (s0 / 2 + km * np.log(2)) / 0.2
    np.testing.assert_allclose(ds["half_conversion_time"].values, expected, rtol=1e-7)
    assert ds["half_conversion_time"].attrs["units"] == "s"


def test_half_conversion_time_is_nan_when_the_run_is_too_short():
    ds = get_simulator("biotechnology/michaelis-menten").run({"t_end": 1.0})
    assert np.isnan(float(ds["half_conversion_time"]))
