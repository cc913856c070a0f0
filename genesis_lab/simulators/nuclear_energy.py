"""Nuclear-energy simulators: reactor point kinetics with six delayed-neutron groups.

The linear system is solved exactly by eigen-decomposition, batched over parameter points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_lab.simulators.base import Output, Parameter, Simulator

__all__ = ["KEEPIN_U235_THERMAL", "PointKinetics"]

KEEPIN_U235_THERMAL = {
    "relative_yield": np.array([0.033, 0.219, 0.196, 0.395, 0.115, 0.042]),
    "decay_constant": np.array([0.0124, 0.0305, 0.111, 0.301, 1.14, 3.01]),
}
"""Six delayed-neutron groups for thermal fission of U-235 (Keepin 1965): a_i and λ_i (1/s)."""


class PointKinetics(Simulator):
    """Reactor power after a step in reactivity, six delayed-neutron groups (U-235, Keepin).

    >>> from genesis_lab.simulators.nuclear_energy import PointKinetics
    >>> ds = PointKinetics().run({"reactivity": 0.1})
    >>> 50 < float(ds["reactor_period"]) < 100
    True
    """

    id = "nuclear-energy/point-kinetics"
    version = "1.0"
    title = "Reactor point kinetics, six delayed-neutron groups"
    description = (
        "Relative reactor power after a step insertion of reactivity (in dollars), from the "
        "point-kinetics equations with Keepin's six delayed-neutron groups for thermal fission "
        "of U-235, solved exactly by eigen-decomposition. Gives the stable reactor period "
        "(checked against the inhour equation) and the prompt jump."
    )
    domain = "nuclear-energy"
    keywords = ("reactor kinetics", "delayed neutrons", "inhour equation", "fission", "simulator")
    agency = "Los Alamos Scientific Laboratory (Keepin group constants)"
    references = (
        "Keepin G. R. (1965) Physics of Nuclear Kinetics, Addison-Wesley (U-235 thermal groups)",
        "Hetrick D. L. (1971) Dynamics of Nuclear Reactors, University of Chicago Press",
    )
    parameters = (
        Parameter(
            "reactivity", "$", (-10.0, 0.95), 0.1, "Step reactivity in dollars (rho / beta)."
        ),
        Parameter("generation_time", "s", (1e-7, 1e-2), 5e-5, "Prompt neutron generation time Λ."),
        Parameter("beta", "1", (1e-3, 1e-2), 0.0065, "Total delayed-neutron fraction β."),
        Parameter("t_end", "s", (1e-3, 100.0), 10.0, "Duration of the transient."),
    )
    outputs = (
        Output("power", "1", "Power relative to the initial power.", scalar=False),
        Output("time", "s", "Time of each output sample.", scalar=False),
        Output(
            "reactor_period", "s", "Stable (asymptotic) reactor period, 1/ω of the slowest mode."
        ),
        Output("inverse_period", "1/s", "Largest root ω of the inhour equation."),
        Output("prompt_jump", "1", "Power after the prompt transient (slow modes at t = 0)."),
        Output("final_power", "1", "Relative power at t_end."),
    )

    n_out = 201

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        rho_dollar, lam_gen, beta = (
            points["reactivity"],
            points["generation_time"],
            points["beta"],
        )
        n = len(beta)
        a = KEEPIN_U235_THERMAL["relative_yield"]
        lam = KEEPIN_U235_THERMAL["decay_constant"]
        beta_i = beta[:, None] * a[None, :]  # (n, 6)
        rho = rho_dollar * beta
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
        omega = w[:, -1]
        with np.errstate(divide="ignore"):
            period = np.where(np.abs(omega) > 1e-12, 1.0 / omega, np.inf)
        prompt_jump = amp[:, 1:].sum(axis=1)  # every mode but the fast prompt one (w[:, 0])
        return xr.Dataset(
            {
                "power": (("point", "step"), power),
                "time": (("point", "step"), time),
                "reactor_period": ("point", period),
                "inverse_period": ("point", omega),
                "prompt_jump": ("point", prompt_jump),
                "final_power": ("point", power[:, -1]),
            }
        )
