"""Fusion-energy simulators: Bosch–Hale thermal reactivities and a 0-D plasma power balance.

Gives D-T and D-D (both branches) reactivities, the plasma gain Q and the Lawson triple product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genesis_lab.simulators.base import Output, Parameter, Simulator

__all__ = ["BOSCH_HALE", "BoschHaleFit", "FusionPowerBalance", "bosch_hale_reactivity"]

KEV = 1.602176634e-16  # J per keV, exact
MEV = 1.602176634e-13  # J per MeV, exact
BREMSSTRAHLUNG = 5.35e-37  # W m^3 keV^-1/2, P = C Z_eff n_e^2 sqrt(T_e) (NRL formulary)


@dataclass(frozen=True)
class BoschHaleFit:
    """One reaction's coefficients in Bosch & Hale (1992), table VII, and its energies (MeV)."""

    gamow: float  # B_G, keV^1/2
    reduced_mass: float  # m_r c^2, keV
    c: tuple[float, float, float, float, float, float, float]
    q_total: float  # energy released per reaction, MeV
    q_charged: float  # of which carried by charged products, MeV


BOSCH_HALE = {
    "D-T": BoschHaleFit(
        34.3827,
        1124656.0,
        (1.17302e-9, 1.51361e-2, 7.51886e-2, 4.60643e-3, 1.35000e-2, -1.06750e-4, 1.36600e-5),
        17.589,
        3.517,
    ),
    "D(d,n)3He": BoschHaleFit(
        31.3970,
        937814.0,
        (5.43360e-12, 5.85778e-3, 7.68222e-3, 0.0, -2.96400e-6, 0.0, 0.0),
        3.269,
        0.820,
    ),
    "D(d,p)T": BoschHaleFit(
        31.3970,
        937814.0,
        (5.65718e-12, 3.41267e-3, 1.99167e-3, 0.0, 1.05060e-5, 0.0, 0.0),
        4.033,
        4.033,
    ),
}
"""Bosch–Hale (Nucl. Fusion 32 (1992) 611) fits, valid for 0.2 keV <= T <= 100 keV."""


def bosch_hale_reactivity(temperature_kev, reaction: str):
    """Maxwell-averaged <σv> in m^3/s at ion temperature ``temperature_kev`` (Bosch–Hale eq. 12).

    >>> f"{float(bosch_hale_reactivity(10.0, 'D-T')) * 1e6:.4g}"  # cm^3/s; table VIII: 1.136e-16
    '1.136e-16'
    """
    fit = BOSCH_HALE[reaction]
    t = np.asarray(temperature_kev, dtype=float)
    c1, c2, c3, c4, c5, c6, c7 = fit.c
    theta = t / (1 - t * (c2 + t * (c4 + t * c6)) / (1 + t * (c3 + t * (c5 + t * c7))))
    xi = (fit.gamow**2 / (4 * theta)) ** (1 / 3)
    return c1 * theta * np.sqrt(xi / (fit.reduced_mass * t**3)) * np.exp(-3 * xi) * 1e-6


# reactions per unit volume are k n^2 <σv>: k = 1/4 for a 50:50 D-T mix, 1/2 for pure D
_FUELS = {"D-T": ((0.25, "D-T"),), "D-D": ((0.5, "D(d,n)3He"), (0.5, "D(d,p)T"))}


class FusionPowerBalance(Simulator):
    """Steady 0-D power balance of a thermal D-T or D-D plasma: Q and the Lawson criterion.

    >>> from genesis_lab.simulators.fusion_energy import FusionPowerBalance
    >>> ds = FusionPowerBalance().run({"ion_temperature": 14.0, "confinement_time": 1.0})
    >>> round(float(ds["ignition_triple_product"]) / 1e21, 1)  # keV s m^-3
    2.9
    """

    id = "nuclear-energy/fusion-power-balance"
    version = "1.0"
    title = "Fusion plasma power balance (Bosch–Hale reactivities, 0-D)"
    description = (
        "Thermal fusion reactivities <σv> of D-T and both D-D branches from the Bosch–Hale "
        "(1992) fits, and the steady zero-dimensional power balance of a uniform plasma: fusion, "
        "charged-particle heating, bremsstrahlung and transport losses (3nT/τ_E), the external "
        "heating needed, the plasma gain Q, the Lawson triple product nTτ_E and the triple "
        "product that ignition needs at that temperature."
    )
    domain = "nuclear-energy"
    keywords = ("fusion", "Lawson criterion", "triple product", "tokamak", "reactivity")
    agency = "Genesis Mission (Bosch–Hale fits, Los Alamos / IPP Garching)"
    references = (
        "Bosch H.-S., Hale G. M. (1992) Nucl. Fusion 32, 611 (reactivity fits, tables VII-VIII)",
        "Lawson J. D. (1957) Proc. Phys. Soc. B 70, 6",
        "Wesson J. (2011) Tokamaks, 4th ed., Oxford, section 1.5",
    )
    parameters = (
        Parameter(
            "fuel",
            "",
            None,
            "D-T",
            "D-T (50:50) or D-D (no burn of the T and 3He it makes).",
            type="choice",
            choices=("D-T", "D-D"),
        ),
        Parameter(
            "ion_temperature",
            "keV",
            (0.2, 100.0),
            15.0,
            "Ion (= electron) temperature; the range of the Bosch–Hale fits.",
        ),
        Parameter("density", "1e20 m^-3", (1e-3, 1e3), 1.0, "Electron (= ion) density n."),
        Parameter("confinement_time", "s", (1e-4, 1e3), 3.0, "Energy confinement time τ_E."),
        Parameter("zeff", "1", (1.0, 8.0), 1.0, "Effective charge for bremsstrahlung."),
    )
    validity_notes = (
        "ion temperature within 0.2-100 keV, where the Bosch–Hale fits hold (within 0.25% for "
        "D-T, 0.35% for D-D of the R-matrix reactivities)",
        "uniform Maxwellian plasma, T_e = T_i, n_e = n_i (zeff only raises bremsstrahlung, it "
        "does not dilute the fuel); no synchrotron or line radiation, no profiles",
        "q_plasma is NaN when the plasma is ignited (no external heating needed); "
        "ignition_triple_product is NaN where bremsstrahlung exceeds the charged fusion power",
    )
    outputs = (
        Output("reactivity", "m^3/s", "<σv> of the fuel (D-D: sum of both branches)."),
        Output("reactivity_dt", "m^3/s", "<σv> of T(d,n)4He."),
        Output("reactivity_dd_n", "m^3/s", "<σv> of D(d,n)3He."),
        Output("reactivity_dd_p", "m^3/s", "<σv> of D(d,p)T."),
        Output("fusion_power_density", "W/m^3", "Fusion power per volume."),
        Output(
            "charged_power_density", "W/m^3", "Fusion power in charged products (self-heating)."
        ),
        Output("bremsstrahlung_density", "W/m^3", "Bremsstrahlung loss C Z_eff n^2 sqrt(T)."),
        Output("transport_loss_density", "W/m^3", "Transport loss 3nT/τ_E."),
        Output("heating_power_density", "W/m^3", "External heating needed (<= 0: ignited)."),
        Output("q_plasma", "1", "Q = fusion power / external heating; NaN when ignited."),
        Output("ignition_margin", "1", "Charged fusion power / losses (>= 1: ignited)."),
        Output("triple_product", "keV s m^-3", "Lawson triple product n T τ_E."),
        Output(
            "ignition_triple_product",
            "keV s m^-3",
            "n T τ_E that ignition needs at this temperature; NaN if it cannot ignite.",
        ),
    )

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        t = points["ion_temperature"]
        n = points["density"] * 1e20
        tau = points["confinement_time"]
        rates = {name: bosch_hale_reactivity(t, name) for name in BOSCH_HALE}
        fusion = np.zeros_like(t)
        charged = np.zeros_like(t)  # per n^2, so the ignition threshold needs no density
        sigma_v = np.zeros_like(t)
        for fuel, channels in _FUELS.items():
            mine = points["fuel"] == fuel
            for share, name in channels:
                fit = BOSCH_HALE[name]
                fusion += np.where(mine, share * rates[name] * fit.q_total * MEV, 0.0)
                charged += np.where(mine, share * rates[name] * fit.q_charged * MEV, 0.0)
                sigma_v += np.where(mine, rates[name], 0.0)
        brems = BREMSSTRAHLUNG * points["zeff"] * np.sqrt(t)  # per n^2
        transport = 3 * n * t * KEV / tau
        heating = transport + n**2 * (brems - charged)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(heating > 0, n**2 * fusion / heating, np.nan)
            net = charged - brems
            ignition = np.where(net > 0, t * 3 * t * KEV / net, np.nan)
        return xr.Dataset(
            {
                "reactivity": ("point", sigma_v),
                "reactivity_dt": ("point", rates["D-T"]),
                "reactivity_dd_n": ("point", rates["D(d,n)3He"]),
                "reactivity_dd_p": ("point", rates["D(d,p)T"]),
                "fusion_power_density": ("point", n**2 * fusion),
                "charged_power_density": ("point", n**2 * charged),
                "bremsstrahlung_density": ("point", n**2 * brems),
                "transport_loss_density": ("point", transport),
                "heating_power_density": ("point", heating),
                "q_plasma": ("point", q),
                "ignition_margin": ("point", n**2 * charged / (transport + n**2 * brems)),
                "triple_product": ("point", n * t * tau),
                "ignition_triple_product": ("point", ignition),
            }
        )
