"""Semiconductor simulators: an abrupt 1-D silicon pn junction from the Poisson–Boltzmann equation.

Newton iterations with a batched tridiagonal solve; checked against the textbook formulas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_lab.errors import SimulationError
from genesis_lab.simulators.base import Output, Parameter, Relation, Simulator

__all__ = ["PNJunction"]

Q = 1.602176634e-19  # C, exact (SI 2019)
K_B = 1.380649e-23  # J/K, exact
EPS0 = 8.8541878128e-12  # F/m, CODATA 2018


class PNJunction(Simulator):
    """Equilibrium or reverse-biased abrupt pn junction, solved on a 1-D grid.

    >>> from genesis_lab.simulators.semiconductors import PNJunction
    >>> ds = PNJunction().run({"acceptor_density": 1e16, "donor_density": 1e17})
    >>> round(float(ds["built_in_potential"]), 3)  # kT/q ln(Na Nd / ni^2)
    0.774
    """

    id = "semiconductors/pn-junction"
    version = "1.1"
    title = "Abrupt pn junction (1-D Poisson–Boltzmann)"
    description = (
        "Electrostatics of an abrupt silicon pn junction in equilibrium or under reverse bias: "
        "the nonlinear Poisson equation with Boltzmann carriers and flat quasi-Fermi levels, "
        "solved by Newton's method on a graded grid. Gives potential, field and carrier "
        "profiles, the built-in potential, the peak field and three depletion widths: the "
        "solution's own (missing majority carriers), the plain depletion approximation and its "
        "-2kT/q majority-tail correction (Sze & Ng), the last two for the solved built-in "
        "potential."
    )
    domain = "semiconductors"
    keywords = ("pn junction", "depletion region", "device physics", "silicon", "simulator")
    references = (
        "Sze S. M., Ng K. K. (2007) Physics of Semiconductor Devices, 3rd ed., Wiley, ch. 2",
        "Kittel C., Kroemer H. (1980) Thermal Physics (ni of Si = 1.0e10 cm^-3 at 300 K)",
    )
    parameters = (
        Parameter("acceptor_density", "cm^-3", (1e14, 1e18), 1e16, "Na on the p side."),
        Parameter("donor_density", "cm^-3", (1e14, 1e18), 1e17, "Nd on the n side."),
        Parameter("reverse_bias", "V", (0.0, 20.0), 0.0, "Applied reverse bias."),
        Parameter("temperature", "K", (200.0, 500.0), 300.0, "Lattice temperature."),
        Parameter("intrinsic_density", "cm^-3", (1e4, 1e14), 1.0e10, "ni at this temperature."),
        Parameter("relative_permittivity", "1", (1.0, 30.0), 11.7, "εr (11.7 for Si)."),
    )
    relations = (
        Relation(
            "acceptor_density >= 100 intrinsic_density",
            ("acceptor_density", "intrinsic_density"),
            lambda p: p["acceptor_density"] >= 100 * p["intrinsic_density"],
            "the p side must be extrinsic for a depletion region to exist",
        ),
        Relation(
            "donor_density >= 100 intrinsic_density",
            ("donor_density", "intrinsic_density"),
            lambda p: p["donor_density"] >= 100 * p["intrinsic_density"],
            "the n side must be extrinsic for a depletion region to exist",
        ),
    )
    validity_notes = (
        "no avalanche or tunnelling: results past the breakdown field of the material "
        "(about 3e7 V/m in silicon at 1e16 cm^-3) describe an ideal, unbroken junction",
        "depletion_width agrees with depletion_width_corrected within 0.1% for doping ratios "
        "up to 10 and within 1% at a ratio of 100 (zero bias), where minority carriers spill "
        "into the light side",
    )
    outputs = (
        Output("position", "m", "Grid position (junction at 0).", scalar=False),
        Output("potential", "V", "Electrostatic potential.", scalar=False),
        Output("electric_field", "V/m", "Electric field.", scalar=False),
        Output("electron_density", "cm^-3", "Electron density.", scalar=False),
        Output("hole_density", "cm^-3", "Hole density.", scalar=False),
        Output("built_in_potential", "V", "Potential step across the junction minus the bias."),
        Output(
            "depletion_width",
            "m",
            "Depleted length of the Poisson–Boltzmann solution: missing majority carriers.",
        ),
        Output(
            "depletion_width_plain",
            "m",
            "Depletion approximation sqrt(2ε(Vbi + VR)/q (1/Na + 1/Nd)), solved Vbi.",
        ),
        Output(
            "depletion_width_corrected",
            "m",
            "Depletion approximation with the majority-tail correction: Vbi + VR - 2kT/q.",
        ),
        Output("peak_field", "V/m", "Largest electric field magnitude."),
        Output("depletion_charge", "C/m^2", "Ionised acceptor charge per area, p side."),
    )

    n_nodes = 2001
    grading = 7.0
    n_out = 401

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        na = points["acceptor_density"] * 1e6
        nd = points["donor_density"] * 1e6
        ni = points["intrinsic_density"] * 1e6
        eps = points["relative_permittivity"] * EPS0
        vt = K_B * points["temperature"] / Q
        vr = points["reverse_bias"] / vt  # scaled by the thermal voltage
        u_p = -np.arcsinh(na / (2 * ni))
        u_n = vr + np.arcsinh(nd / (2 * ni))
        drop = (u_n - u_p) * vt
        w_est = np.sqrt(2 * eps * drop / Q * (1 / na + 1 / nd))
        xp, xn = w_est * nd / (na + nd), w_est * na / (na + nd)
        debye_p, debye_n = np.sqrt(eps * vt / (Q * na)), np.sqrt(eps * vt / (Q * nd))
        left, right = -(2 * xp + 15 * debye_p), 2 * xn + 15 * debye_n
        # half the nodes on each side, graded (sinh) to be finest at the junction, where the
        # heavy side's carriers spill over within its Debye length
        half = (self.n_nodes - 1) // 2
        s = np.sinh(self.grading * np.linspace(0.0, 1.0, half + 1)) / np.sinh(self.grading)
        x = np.concatenate([left[:, None] * s[None, ::-1], right[:, None] * s[None, 1:]], axis=1)
        h = np.diff(x, axis=1)  # (n, m-1)
        vol = np.zeros_like(x)  # control-volume length of each node
        vol[:, :-1] += h / 2
        vol[:, 1:] += h / 2
        # doping integrated over each node's control volume, (Nd - Na) / ni times length
        left_half, right_half = np.zeros_like(x), np.zeros_like(x)
        left_half[:, 1:], right_half[:, :-1] = h / 2, h / 2
        doping = np.where(x > 0, nd[:, None], -na[:, None]) * vol
        doping[:, half] = nd * right_half[:, half] - na * left_half[:, half]
        doping = doping / ni[:, None]
        c = (Q * ni / (eps * vt))[:, None]
        u = _depletion_guess(x, xp, xn, u_p, u_n, Q * na / (2 * eps * vt), Q * nd / (2 * eps * vt))
        shift = vr[:, None]
        inv_h = 1.0 / h
        for _ in range(200):
            n_s, p_s = np.exp(u - shift), np.exp(-u)
            flux = np.diff(u, axis=1) * inv_h
            space_charge = c * (vol * (n_s - p_s) - doping)
            resid = flux[:, 1:] - flux[:, :-1] - space_charge[:, 1:-1]
            diag = -(inv_h[:, 1:] + inv_h[:, :-1]) - (c * vol * (n_s + p_s))[:, 1:-1]
            delta = _thomas(inv_h[:, 1:-1], diag, inv_h[:, 1:-1], -resid)
            delta = np.clip(delta, -1.0, 1.0)
            u[:, 1:-1] += delta
            if np.max(np.abs(delta)) < 1e-11:
                break
        else:
            raise SimulationError(
                f"{self.id}: Newton iterations did not converge (last step "
                f"{np.max(np.abs(delta)):.2e} thermal voltages); try less extreme dopings."
            )
        psi = u * vt[:, None]
        field_mid = -np.diff(psi, axis=1) / h
        field = np.empty_like(psi)
        field[:, 0], field[:, -1] = field_mid[:, 0], field_mid[:, -1]
        hl, hr = h[:, :-1], h[:, 1:]
        field[:, 1:-1] = (field_mid[:, :-1] * hr + field_mid[:, 1:] * hl) / (hl + hr)
        n_e, p_h = ni[:, None] * np.exp(u - shift), ni[:, None] * np.exp(-u)
        # depletion width: majority carriers missing on each side, as an equivalent length
        missing_p = np.where(x <= 0, np.clip(1 - p_h / na[:, None], 0.0, None), 0.0)
        missing_n = np.where(x >= 0, np.clip(1 - n_e / nd[:, None], 0.0, None), 0.0)
        x_p = np.trapezoid(missing_p, x, axis=1)
        x_n = np.trapezoid(missing_n, x, axis=1)
        charge = Q * na * x_p
        built_in = np.sum(-field_mid * h, axis=1) - points["reverse_bias"]
        width = x_p + x_n
        per_volt = 2 * eps / Q * (1 / na + 1 / nd)
        plain = np.sqrt(per_volt * (built_in + points["reverse_bias"]))
        corrected = np.sqrt(per_volt * (built_in + points["reverse_bias"] - 2 * vt))
        pick = np.linspace(0, self.n_nodes - 1, self.n_out).round().astype(int)
        return xr.Dataset(
            {
                "position": (("point", "node"), x[:, pick]),
                "potential": (("point", "node"), psi[:, pick]),
                "electric_field": (("point", "node"), field[:, pick]),
                "electron_density": (("point", "node"), n_e[:, pick] * 1e-6),
                "hole_density": (("point", "node"), p_h[:, pick] * 1e-6),
                "built_in_potential": ("point", built_in),
                "depletion_width": ("point", width),
                "depletion_width_plain": ("point", plain),
                "depletion_width_corrected": ("point", corrected),
                "peak_field": ("point", np.max(np.abs(field), axis=1)),
                "depletion_charge": ("point", charge),
            }
        )


def _depletion_guess(x, xp, xn, u_p, u_n, curv_p, curv_n):
    """The depletion-approximation potential (two parabolas), as Newton's starting point."""
    xp, xn, u_p, u_n = xp[:, None], xn[:, None], u_p[:, None], u_n[:, None]
    p_side = u_p + curv_p[:, None] * np.clip(x + xp, 0.0, None) ** 2
    n_side = u_n - curv_n[:, None] * np.clip(xn - x, 0.0, None) ** 2
    return np.where(x <= 0, p_side, n_side)


def _thomas(sub: np.ndarray, diag: np.ndarray, sup: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve tridiagonal systems, one per row, vectorised over rows.

    Row i reads ``sub[i-1] x[i-1] + diag[i] x[i] + sup[i] x[i+1] = rhs[i]``; ``sub`` and
    ``sup`` have one column fewer than ``diag``.
    """
    m = diag.shape[1]
    c_prime = np.empty_like(diag)
    d_prime = np.empty_like(rhs)
    c_prime[:, 0] = sup[:, 0] / diag[:, 0] if m > 1 else 0.0
    d_prime[:, 0] = rhs[:, 0] / diag[:, 0]
    for i in range(1, m):
        denom = diag[:, i] - sub[:, i - 1] * c_prime[:, i - 1]
        c_prime[:, i] = sup[:, i] / denom if i < m - 1 else 0.0
        d_prime[:, i] = (rhs[:, i] - sub[:, i - 1] * d_prime[:, i - 1]) / denom
    out = np.empty_like(rhs)
    out[:, -1] = d_prime[:, -1]
    for i in range(m - 2, -1, -1):
        out[:, i] = d_prime[:, i] - c_prime[:, i] * out[:, i + 1]
    return out
