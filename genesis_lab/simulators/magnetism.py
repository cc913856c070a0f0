"""A stochastic simulator: the 2-D Ising ferromagnet by Metropolis Monte Carlo (checkerboard).

Filed under critical materials (permanent-magnet ordering); checked against Onsager's solution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_lab.simulators.base import Output, Parameter, Simulator

__all__ = ["ONSAGER_TC", "IsingFerromagnet"]

ONSAGER_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))
"""Critical temperature of the square-lattice Ising model, in units of J/k_B (Onsager 1944)."""


class IsingFerromagnet(Simulator):
    """Square-lattice Ising ferromagnet, Metropolis Monte Carlo with a checkerboard update.

    >>> from genesis_lab.simulators.magnetism import IsingFerromagnet
    >>> ds = IsingFerromagnet().run({"temperature": 1.5, "lattice_size": 16}, seed=1)
    >>> float(ds["magnetisation"]) > 0.95
    True
    """

    id = "critical-materials/ising-ferromagnet"
    version = "1.0"
    title = "2-D Ising ferromagnet (Metropolis Monte Carlo)"
    description = (
        "Magnetic order of a square-lattice Ising ferromagnet with periodic boundaries, "
        "sampled by Metropolis Monte Carlo with a checkerboard update vectorised over "
        "parameter points: magnetisation, energy, susceptibility, specific heat and the "
        "Binder cumulant. The minimal model of the ordering transition of magnetic materials; "
        "checked against Onsager's exact critical temperature, energy and spontaneous "
        "magnetisation (Yang 1952)."
    )
    domain = "critical-materials"
    keywords = ("ising model", "monte carlo", "ferromagnet", "phase transition", "magnets")
    references = (
        "Onsager L. (1944) Phys. Rev. 65, 117",
        "Yang C. N. (1952) Phys. Rev. 85, 808 (spontaneous magnetisation)",
        "Newman M. E. J., Barkema G. T. (1999) Monte Carlo Methods in Statistical Physics",
    )
    stochastic = True
    parameters = (
        Parameter("temperature", "J/k_B", (0.1, 10.0), 2.0, "Temperature in units of J/k_B."),
        Parameter("field", "J", (-5.0, 5.0), 0.0, "External field h (energy per spin)."),
        Parameter(
            "lattice_size", "1", (4, 256), 32, "Linear size L of the L x L lattice.", type="int"
        ),
        Parameter(
            "n_sweeps", "1", (10, 1_000_000), 1000, "Measured Monte Carlo sweeps.", type="int"
        ),
        Parameter(
            "n_equilibration",
            "1",
            (0, 1_000_000),
            300,
            "Sweeps discarded before measuring (start: all spins up).",
            type="int",
        ),
    )
    outputs = (
        Output("magnetisation", "1", "Mean |m| per spin."),
        Output("energy_per_spin", "J", "Mean energy per spin."),
        Output("susceptibility", "1/J", "χ = N (<m²> - <|m|>²) / T."),
        Output("specific_heat", "k_B", "C = N (<e²> - <e>²) / T² per spin."),
        Output("binder_cumulant", "1", "U = 1 - <m⁴> / (3 <m²>²)."),
    )

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        n = len(points["temperature"])
        out = {o.name: np.empty(n) for o in self.outputs}
        groups = list(
            zip(
                points["lattice_size"].tolist(),
                points["n_sweeps"].tolist(),
                points["n_equilibration"].tolist(),
                strict=True,
            )
        )
        for key in sorted(set(groups)):
            sel = np.array([g == key for g in groups])
            idx = np.flatnonzero(sel)
            res = _metropolis(
                points["temperature"][sel], points["field"][sel], *key, [rngs[i] for i in idx]
            )
            for name, values in res.items():
                out[name][sel] = values
        return xr.Dataset({name: ("point", values) for name, values in out.items()})


def _metropolis(temp, field, size, n_sweeps, n_equil, rngs):
    n = len(temp)
    beta = (1.0 / temp)[:, None, None]
    h = field[:, None, None]
    spins = np.ones((n, size, size))
    ii, jj = np.indices((size, size))
    colours = [((ii + jj) % 2 == c)[None, :, :] for c in (0, 1)]
    n_spins = size * size
    sums = {k: np.zeros(n) for k in ("m", "m2", "m4", "e", "e2")}
    for sweep in range(n_equil + n_sweeps):
        for colour in colours:
            nb = (
                np.roll(spins, 1, axis=1)
                + np.roll(spins, -1, axis=1)
                + np.roll(spins, 1, axis=2)
                + np.roll(spins, -1, axis=2)
            )
            delta = 2.0 * spins * (nb + h)
            draws = np.stack([g.random((size, size)) for g in rngs])
            flip = colour & (draws < np.exp(-beta * np.clip(delta, 0.0, None)))
            spins = np.where(flip, -spins, spins)
        if sweep >= n_equil:
            nb = np.roll(spins, 1, axis=1) + np.roll(spins, 1, axis=2)
            e = (-(spins * nb).sum(axis=(1, 2)) - field * spins.sum(axis=(1, 2))) / n_spins
            m = np.abs(spins.mean(axis=(1, 2)))
            sums["m"] += m
            sums["m2"] += m**2
            sums["m4"] += m**4
            sums["e"] += e
            sums["e2"] += e**2
    mean = {k: v / n_sweeps for k, v in sums.items()}
    return {
        "magnetisation": mean["m"],
        "energy_per_spin": mean["e"],
        "susceptibility": n_spins * (mean["m2"] - mean["m"] ** 2) / temp,
        "specific_heat": n_spins * (mean["e2"] - mean["e"] ** 2) / temp**2,
        "binder_cumulant": 1.0 - mean["m4"] / (3.0 * mean["m2"] ** 2),
    }
