"""Nuclear-energy simulators: reactor point kinetics with six delayed-neutron groups.

The linear system is solved exactly by eigen-decomposition, batched over parameter points;
the stable period is polished by Newton steps on the inhour equation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from genesis_lab.simulators.base import Output, Parameter, Relation, Simulator

__all__ = ["KEEPIN_U235_THERMAL", "REACTIVITY_UNITS", "PointKinetics", "absolute_reactivity"]

_ABSOLUTE = np.array([0.00052, 0.00346, 0.00310, 0.00624, 0.00182, 0.00066])
KEEPIN_U235_THERMAL = {
    "absolute_yield": _ABSOLUTE,
    "relative_yield": _ABSOLUTE / _ABSOLUTE.sum(),
    "decay_constant": np.array([0.0124, 0.0305, 0.111, 0.301, 1.14, 3.01]),
    "half_life": np.array([55.72, 22.72, 6.22, 2.30, 0.610, 0.230]),
}
"""Six delayed-neutron groups for thermal fission of U-235 (Keepin 1965, table 4-7).

``absolute_yield`` are neutrons per fission as published (total 0.0158); the relative yields
a_i are their ratios to the total, unrounded; ``decay_constant`` λ_i in 1/s as published."""

REACTIVITY_UNITS = ("dollar", "pcm", "dk/k")
"""Units of the ``reactivity`` parameter: dollars (ρ/β), pcm (1e-5 Δk/k) or Δk/k itself."""

_MAX_DOLLARS = 10.0
_MAX_GROWTH = 690.0  # e^690 ~ 1e300: the largest power float64 holds with room to spare


def absolute_reactivity(value, unit, beta):
    """Reactivity in Δk/k from a value in ``unit`` (one of :data:`REACTIVITY_UNITS`).

    >>> float(absolute_reactivity(150.0, "pcm", 0.0065))
    0.0015
    """
    value, unit, beta = np.asarray(value, float), np.asarray(unit), np.asarray(beta, float)
    return np.select(
        [unit == "dollar", unit == "pcm", unit == "dk/k"],
        [value * beta, value * 1e-5, value],
        np.nan,
    )


def _inhour_excess(omega, rho, gen_time, beta):
    """Λω + Σ β_i ω/(ω + λ_i) - ρ: increasing in ω above -λ_1, zero at the inhour roots."""
    a = KEEPIN_U235_THERMAL["relative_yield"]
    lam = KEEPIN_U235_THERMAL["decay_constant"]
    w = np.asarray(omega, float)[..., None]
    delayed = np.sum(a * w / (w + lam), axis=-1)
    return gen_time * omega + beta * delayed - rho


def _dollars(p: Mapping[str, np.ndarray]) -> np.ndarray:
    return absolute_reactivity(p["reactivity"], p["reactivity_unit"], p["beta"]) / p["beta"]


def _power_finite(p: Mapping[str, np.ndarray]) -> np.ndarray:
    rho = absolute_reactivity(p["reactivity"], p["reactivity_unit"], p["beta"])
    # the largest inhour root is at most w* exactly when the (increasing) excess at w* is >= 0
    w_star = _MAX_GROWTH / p["t_end"]
    return _inhour_excess(w_star, rho, p["generation_time"], p["beta"]) >= 0


class PointKinetics(Simulator):
    """Reactor power after a step in reactivity, six delayed-neutron groups (U-235, Keepin).

    >>> from genesis_lab.simulators.nuclear_energy import PointKinetics
    >>> ds = PointKinetics().run({"reactivity": 0.1})
    >>> 50 < float(ds["reactor_period"]) < 100
    True
    >>> ds = PointKinetics().run({"reactivity": 65.0, "reactivity_unit": "pcm"})  # 0.1 $
    >>> 50 < float(ds["reactor_period"]) < 100
    True
    """

    id = "nuclear-energy/point-kinetics"
    version = "2.0"
    title = "Reactor point kinetics, six delayed-neutron groups"
    description = (
        "Relative reactor power after a step insertion of reactivity (in dollars, pcm or Δk/k), "
        "from the point-kinetics equations with Keepin's six delayed-neutron groups for thermal "
        "fission of U-235 (absolute group yields as published), solved exactly by "
        "eigen-decomposition. Gives the stable reactor period (the largest root of the inhour "
        "equation) and the prompt jump, below and above prompt critical."
    )
    domain = "nuclear-energy"
    keywords = ("reactor kinetics", "delayed neutrons", "inhour equation", "fission", "simulator")
    agency = "Los Alamos Scientific Laboratory (Keepin group constants)"
    references = (
        "Keepin G. R. (1965) Physics of Nuclear Kinetics, Addison-Wesley, table 4-7 "
        "(U-235 thermal groups)",
        "Hetrick D. L. (1971) Dynamics of Nuclear Reactors, University of Chicago Press",
    )
    parameters = (
        Parameter(
            "reactivity",
            "(reactivity_unit)",
            (-1e4, 1e4),
            0.1,
            "Step reactivity, in the unit named by reactivity_unit (dollars by default).",
        ),
        Parameter(
            "reactivity_unit",
            "",
            None,
            "dollar",
            "Unit of reactivity: dollar (ρ/β), pcm (1e-5 Δk/k) or dk/k.",
            type="choice",
            choices=REACTIVITY_UNITS,
        ),
        Parameter("generation_time", "s", (1e-7, 1e-2), 5e-5, "Prompt neutron generation time Λ."),
        Parameter("beta", "1", (1e-3, 1e-2), 0.0065, "Total delayed-neutron fraction β."),
        Parameter("t_end", "s", (1e-3, 100.0), 10.0, "Duration of the transient."),
    )
    relations = (
        Relation(
            f"reactivity >= -{_MAX_DOLLARS:g} $",
            ("reactivity", "reactivity_unit", "beta"),
            lambda p: _dollars(p) >= -_MAX_DOLLARS,
            "a deeper shutdown than ten dollars is outside any reactor the model describes",
        ),
        Relation(
            f"reactivity <= {_MAX_DOLLARS:g} $",
            ("reactivity", "reactivity_unit", "beta"),
            lambda p: _dollars(p) <= _MAX_DOLLARS,
            "steps beyond ten dollars are outside any reactor the model describes; above "
            "1 $ (prompt critical) the model holds and the period is prompt",
        ),
        Relation(
            f"t_end <= {_MAX_GROWTH:g} x stable period",
            ("reactivity", "reactivity_unit", "generation_time", "beta", "t_end"),
            _power_finite,
            "beyond it the power exceeds 1e300 (no feedback in the model stops the excursion); "
            "shorten t_end",
        ),
    )
    validity_notes = (
        "reactor_period is NaN at zero reactivity (the period is infinite); inverse_period is 0",
        "no temperature feedback: a point reactor at constant reactivity, as in the inhour "
        "equation",
    )
    outputs = (
        Output("power", "1", "Power relative to the initial power.", scalar=False),
        Output("time", "s", "Time of each output sample.", scalar=False),
        Output(
            "reactor_period",
            "s",
            "Stable (asymptotic) reactor period 1/ω of the slowest mode; NaN at zero reactivity.",
        ),
        Output("inverse_period", "1/s", "Largest root ω of the inhour equation."),
        Output("reactivity_dollars", "$", "The step reactivity in dollars (ρ/β)."),
        Output("reactivity_pcm", "pcm", "The step reactivity in pcm (1e-5 Δk/k)."),
        Output("prompt_jump", "1", "Power after the prompt transient (slow modes at t = 0)."),
        Output("final_power", "1", "Relative power at t_end."),
    )

    n_out = 201

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        lam_gen, beta = points["generation_time"], points["beta"]
        rho = absolute_reactivity(points["reactivity"], points["reactivity_unit"], beta)
        n = len(beta)
        a = KEEPIN_U235_THERMAL["relative_yield"]
        lam = KEEPIN_U235_THERMAL["decay_constant"]
        beta_i = beta[:, None] * a[None, :]  # (n, 6)
        mat = np.zeros((n, 7, 7))
        mat[:, 0, 0] = (rho - beta) / lam_gen
        mat[:, 0, 1:] = lam[None, :]
        mat[:, 1:, 0] = beta_i / lam_gen[:, None]
        idx = np.arange(1, 7)
        mat[:, idx, idx] = -lam[None, :]
        y0 = np.concatenate([np.ones((n, 1)), beta_i / (lam[None, :] * lam_gen[:, None])], axis=1)
        w, v = np.linalg.eig(mat)
        w, v = w.real, v.real  # the inhour equation has seven real roots
        order = np.argsort(w, axis=1)
        w = np.take_along_axis(w, order, axis=1)
        v = np.take_along_axis(v, order[:, None, :], axis=2)
        coef = np.linalg.solve(v, y0[:, :, None])[:, :, 0]  # y(t) = sum_k coef_k v_k e^{w_k t}
        amp = coef * v[:, 0, :]  # contribution of each mode to the power
        frac = np.linspace(0.0, 1.0, self.n_out)
        time = points["t_end"][:, None] * frac[None, :]
        power = np.einsum("pk,pkt->pt", amp, np.exp(w[:, :, None] * time[:, None, :]))
        omega = _polish(w[:, -1], rho, lam_gen, beta)
        with np.errstate(divide="ignore"):
            period = np.where(rho != 0.0, 1.0 / np.where(rho != 0.0, omega, 1.0), np.nan)
        prompt_jump = amp[:, 1:].sum(axis=1)  # every mode but the fast prompt one (w[:, 0])
        return xr.Dataset(
            {
                "power": (("point", "step"), power),
                "time": (("point", "step"), time),
                "reactor_period": ("point", period),
                "inverse_period": ("point", omega),
                "reactivity_dollars": ("point", rho / beta),
                "reactivity_pcm": ("point", rho * 1e5),
                "prompt_jump": ("point", prompt_jump),
                "final_power": ("point", power[:, -1]),
            }
        )


def _polish(omega, rho, gen_time, beta, steps: int = 3):
    """Newton steps on the inhour equation from the eigenvalue (exactly 0 at zero reactivity)."""
    a = KEEPIN_U235_THERMAL["relative_yield"]
    lam = KEEPIN_U235_THERMAL["decay_constant"]
    omega = np.where(rho == 0.0, 0.0, omega)
    for _ in range(steps):
        slope = gen_time + beta * np.sum(a * lam / (omega[:, None] + lam) ** 2, axis=1)
        step = _inhour_excess(omega, rho, gen_time, beta) / slope
        omega = np.where(rho == 0.0, 0.0, omega - step)
    return omega
