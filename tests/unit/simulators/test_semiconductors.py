"""pn junction against the textbook formulas (Sze & Ng 2007, ch. 2).

Built-in potential Vbi = kT/q ln(Na Nd / ni²) (tolerance 1e-6). The two named textbook
widths, plain W0 = sqrt(2ε/q (1/Na + 1/Nd)(Vbi + VR)) and majority-tail corrected
Wc = sqrt(2ε/q (1/Na + 1/Nd)(Vbi + VR - 2kT/q)), each within 0.1% of the formulas here for
doping ratios 1, 10 and 100. The Poisson–Boltzmann width (missing majority carriers) follows
Wc within 0.1% for ratios up to 10 and within 1% at ratio 100, where minority carriers spill
into the light side (the simulator's note says so). Peak field of a symmetric junction
E = sqrt(2q(Vbi + VR - 2kT/q)/ε · NaNd/(Na+Nd)) (tolerance 0.1%).
"""

import numpy as np
import pytest

from genesis_lab.simulators import get_simulator

Q, K_B, EPS0 = 1.602176634e-19, 1.380649e-23, 8.8541878128e-12


def textbook(na, nd, vr=0.0, temp=300.0, ni=1e10, eps_r=11.7, plain=False):
    vt = K_B * temp / Q
    vbi = vt * np.log(na * nd / ni**2)
    eps = eps_r * EPS0
    na_m, nd_m = na * 1e6, nd * 1e6
    drop = vbi + vr - (0.0 if plain else 2 * vt)
    width = np.sqrt(2 * eps / Q * (1 / na_m + 1 / nd_m) * drop)
    field = np.sqrt(2 * Q * drop / eps * na_m * nd_m / (na_m + nd_m))
    return vbi, width, field


@pytest.mark.parametrize(
    ("na", "nd", "vr"),
    [(1e16, 1e16, 0.0), (1e16, 1e17, 0.0), (1e15, 1e17, 0.0), (1e18, 1e16, 2.0),
     (1e14, 1e16, 5.0)],
)  # fmt: skip
def test_named_plain_and_corrected_widths_match_their_formulas(na, nd, vr):
    ds = get_simulator("semiconductors/pn-junction").run(
        {"acceptor_density": na, "donor_density": nd, "reverse_bias": vr}
    )
    _, plain, _ = textbook(na, nd, vr, plain=True)
    _, corrected, _ = textbook(na, nd, vr)
    assert float(ds["depletion_width_plain"]) == pytest.approx(plain, rel=1e-3)
    assert float(ds["depletion_width_corrected"]) == pytest.approx(corrected, rel=1e-3)
    # the Poisson–Boltzmann width sits with the corrected formula, well away from the plain one
    tol = 1e-3 if max(na, nd) / min(na, nd) <= 10 else 1e-2
    assert float(ds["depletion_width"]) == pytest.approx(corrected, rel=tol)
    assert abs(float(ds["depletion_width"]) / plain - 1) > abs(
        float(ds["depletion_width"]) / corrected - 1
    )


@pytest.mark.parametrize(
    ("na", "nd", "vr", "temp"),
    [(1e16, 1e17, 0.0, 300.0), (1e15, 1e15, 0.0, 300.0), (1e16, 1e16, 5.0, 300.0),
     (1e18, 1e17, 1.0, 300.0), (1e17, 1e17, 0.0, 400.0)],
)  # fmt: skip
def test_built_in_potential_and_depletion_width(na, nd, vr, temp):
    ds = get_simulator("semiconductors/pn-junction").run(
        {"acceptor_density": na, "donor_density": nd, "reverse_bias": vr, "temperature": temp}
    )
    vbi, width, _ = textbook(na, nd, vr, temp)
    assert float(ds["built_in_potential"]) == pytest.approx(vbi, rel=1e-6)
    assert float(ds["depletion_width"]) == pytest.approx(width, rel=1e-3)
    assert ds["depletion_width"].attrs["units"] == "m"


@pytest.mark.parametrize(("dop", "vr"), [(1e15, 0.0), (1e16, 5.0), (1e18, 0.0)])
def test_peak_field_of_a_symmetric_junction(dop, vr):
    ds = get_simulator("semiconductors/pn-junction").run(
        {"acceptor_density": dop, "donor_density": dop, "reverse_bias": vr}
    )
    _, _, field = textbook(dop, dop, vr)
    assert float(ds["peak_field"]) == pytest.approx(field, rel=1e-3)


def test_profiles_are_neutral_far_from_the_junction():
    ds = get_simulator("semiconductors/pn-junction").run({})
    assert float(ds["hole_density"][0]) == pytest.approx(1e16, rel=1e-6)
    assert float(ds["electron_density"][-1]) == pytest.approx(1e17, rel=1e-6)
    assert abs(float(ds["electric_field"][0])) < 1e-3 * float(ds["peak_field"])
