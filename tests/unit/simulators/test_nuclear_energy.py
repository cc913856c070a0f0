"""Point kinetics against the inhour equation and the prompt-jump approximation.

References: Keepin (1965) six-group U-235 data; inhour equation
rho = Λω + Σ β_i ω/(ω + λ_i) solved independently with brentq (tolerance 1e-9 relative on ω);
prompt jump P+/P0 = β/(β - ρ) (Hetrick 1971), an approximation good to 1% for reactivities up to 0.3 $ (and negative ones).
"""

import numpy as np
import pytest
from scipy.optimize import brentq

from genesis_lab.simulators import get_simulator
from genesis_lab.simulators.nuclear_energy import KEEPIN_U235_THERMAL

LAMBDA_I = KEEPIN_U235_THERMAL["decay_constant"]
A_I = KEEPIN_U235_THERMAL["relative_yield"]


def inhour_root(rho_dollars, gen_time, beta):
    rho = rho_dollars * beta

    def f(w):
        return gen_time * w + np.sum(beta * A_I * w / (w + LAMBDA_I)) - rho

    if rho_dollars > 0:
        return brentq(f, 1e-15, 1e6, xtol=1e-16, rtol=1e-14)
    return brentq(f, -LAMBDA_I[0] * (1 - 1e-12), -1e-15, xtol=1e-16, rtol=1e-14)


@pytest.mark.parametrize(
    ("rho", "gen_time", "beta"),
    [(0.1, 5e-5, 0.0065), (0.5, 1e-4, 0.0065), (0.9, 2e-5, 0.007), (-0.5, 5e-5, 0.0065),
     (-3.0, 1e-3, 0.005)],
)  # fmt: skip
def test_stable_period_matches_inhour_equation(rho, gen_time, beta):
    ds = get_simulator("nuclear-energy/point-kinetics").run(
        {"reactivity": rho, "generation_time": gen_time, "beta": beta}
    )
    omega = inhour_root(rho, gen_time, beta)
    assert float(ds["inverse_period"]) == pytest.approx(omega, rel=1e-9)
    assert float(ds["reactor_period"]) == pytest.approx(1 / omega, rel=1e-9)
    assert ds["reactor_period"].attrs["units"] == "s"


@pytest.mark.parametrize("rho", [0.1, 0.2, 0.3, -0.5, -1.0])
def test_prompt_jump_within_one_percent(rho):
    ds = get_simulator("nuclear-energy/point-kinetics").run({"reactivity": rho})
    assert float(ds["prompt_jump"]) == pytest.approx(1 / (1 - rho), rel=0.01)


def test_power_grows_with_the_stable_period_at_late_times():
    ds = get_simulator("nuclear-energy/point-kinetics").run({"reactivity": 0.2, "t_end": 100.0})
    t, p = ds["time"].values, ds["power"].values
    slope = np.log(p[-1] / p[-21]) / (t[-1] - t[-21])
    assert slope == pytest.approx(float(ds["inverse_period"]), rel=1e-3)
    assert p[0] == pytest.approx(1.0, abs=1e-9)


def test_zero_reactivity_keeps_power_constant():
    ds = get_simulator("nuclear-energy/point-kinetics").run({"reactivity": 0.0})
    np.testing.assert_allclose(ds["power"].values, 1.0, atol=1e-9)
