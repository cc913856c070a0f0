"""Rosenthal melt pool against the closed form and an independent scipy solution.

Reference: Rosenthal (1946). Behind the source on the axis T = T0 + q/(2πkR), so the tail
length is q/(2πk(Tm - T0)) exactly (tolerance 1e-9); the front is the root of the closed form
found with brentq (1e-9); the width is maximised with scipy (tolerance 1e-5 relative).
"""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from genesis_lab.simulators import get_simulator
from genesis_lab.simulators.advanced_manufacturing import rosenthal_temperature

CASES = [
    {"power": 200.0, "absorptivity": 0.35, "speed": 0.8},
    {"power": 400.0, "absorptivity": 0.5, "speed": 1.5, "conductivity": 6.7,
     "diffusivity": 2.9e-6, "melting_temperature": 1928.0},
    {"power": 1000.0, "absorptivity": 0.3, "speed": 0.01, "conductivity": 35.0},
]  # fmt: skip


def reference(p):
    q = p["power"] * p["absorptivity"]
    k, a, v = p.get("conductivity", 20.0), p.get("diffusivity", 5e-6), p["speed"]
    t0, tm = 300.0, p.get("melting_temperature", 1700.0)

    def temp(x, y):
        return rosenthal_temperature(x, y, 0.0, q, k, a, v, t0)

    rear = q / (2 * np.pi * k * (tm - t0))
    front = brentq(lambda s: temp(s, 0.0) - tm, 1e-15, rear, xtol=1e-18)

    def half(x):
        return brentq(lambda y: temp(x, y) - tm, 0.0, rear, xtol=1e-18)

    best = minimize_scalar(lambda x: -half(x), bounds=(-rear * 0.9999, front * 0.9999),
                           method="bounded", options={"xatol": 1e-12})  # fmt: skip
    return rear, front, 2 * half(best.x)


@pytest.mark.parametrize("params", CASES)
def test_melt_pool_dimensions(params):
    ds = get_simulator("advanced-manufacturing/rosenthal-melt-pool").run(params)
    rear, front, width = reference(params)
    assert float(ds["melt_pool_rear_length"]) == pytest.approx(rear, rel=1e-9)
    assert float(ds["melt_pool_front_length"]) == pytest.approx(front, rel=1e-9)
    assert float(ds["melt_pool_length"]) == pytest.approx(rear + front, rel=1e-9)
    assert float(ds["melt_pool_width"]) == pytest.approx(width, rel=1e-5)
    assert ds["melt_pool_length"].attrs["units"] == "m"


def test_surface_field_is_the_closed_form():
    ds = get_simulator("advanced-manufacturing/rosenthal-melt-pool").run({"power": 300.0})
    x, y = ds["x"].values, ds["y"].values
    xx, yy = np.meshgrid(x, y, indexing="ij")
    away = xx**2 + yy**2 > 0
    # independent evaluation of T0 + q/(2πkR) exp(-v(ξ+R)/(2α))
    r = np.sqrt(xx**2 + yy**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = 300.0 + 105.0 / (2 * np.pi * 20.0 * r) * np.exp(-0.8 * (xx + r) / (2 * 5e-6))
    np.testing.assert_allclose(ds["temperature"].values[away], ref[away], rtol=1e-12)
