"""Advanced-manufacturing simulators: Rosenthal moving point source for laser melt pools.

Surface temperature field, melt-pool length and width, vectorised over parameter points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_lab.simulators.base import Output, Parameter, Relation, Simulator

__all__ = ["RosenthalMeltPool", "rosenthal_temperature"]


def rosenthal_temperature(xi, y, z, q, k, alpha, v, t0):
    """Rosenthal (1946) quasi-steady temperature around a point source moving along +x.

    ``xi`` is the distance ahead of the source; ``q`` the absorbed power (W).

    >>> round(float(rosenthal_temperature(-1e-3, 0.0, 0.0, 70.0, 20.0, 5e-6, 0.8, 300.0)), 1)
    857.0
    """
    r = np.sqrt(xi**2 + y**2 + z**2)
    return t0 + q / (2 * np.pi * k * r) * np.exp(-v * (xi + r) / (2 * alpha))


class RosenthalMeltPool(Simulator):
    """Melt pool of a laser moving over a thick plate (Rosenthal point source).

    >>> from genesis_lab.simulators.advanced_manufacturing import RosenthalMeltPool
    >>> ds = RosenthalMeltPool().run({"power": 200.0})
    >>> round(float(ds["melt_pool_length"]) * 1e6)  # micrometres
    417
    """

    id = "advanced-manufacturing/rosenthal-melt-pool"
    version = "1.1"
    title = "Rosenthal moving point source: laser melt pool"
    description = (
        "Quasi-steady temperature around a point heat source moving over a semi-infinite plate "
        "(Rosenthal 1946), as used to size melt pools in laser powder-bed fusion and welding. "
        "Gives the surface temperature field and the melt-pool length and width."
    )
    domain = "advanced-manufacturing"
    keywords = ("additive manufacturing", "laser powder bed fusion", "melt pool", "simulator")
    references = (
        "Rosenthal D. (1946) Trans. ASME 68, 849 (moving point source)",
        "DebRoy T. et al. (2018) Prog. Mater. Sci. 92, 112",
    )
    parameters = (
        Parameter("power", "W", (1.0, 5000.0), 200.0, "Laser power."),
        Parameter("absorptivity", "1", (0.01, 1.0), 0.35, "Fraction of the power absorbed."),
        Parameter("speed", "m/s", (1e-3, 10.0), 0.8, "Scan speed."),
        Parameter("conductivity", "W/(m K)", (0.1, 500.0), 20.0, "Thermal conductivity k."),
        Parameter("diffusivity", "m^2/s", (1e-8, 1e-3), 5e-6, "Thermal diffusivity α."),
        Parameter("preheat_temperature", "K", (1.0, 3000.0), 300.0, "Plate temperature T0."),
        Parameter("melting_temperature", "K", (300.0, 4000.0), 1700.0, "Liquidus Tm."),
    )
    relations = (
        Relation(
            "preheat_temperature < melting_temperature",
            ("preheat_temperature", "melting_temperature"),
            lambda p: p["preheat_temperature"] < p["melting_temperature"],
            "the plate must be solid before the laser arrives, or there is no melt-pool boundary",
        ),
    )
    validity_notes = (
        "temperature is NaN at the source node (x = y = 0), where the point source is singular",
        "conduction only: no latent heat, convection, keyhole or temperature-dependent "
        "properties, so the pool is a conduction-mode estimate",
    )
    outputs = (
        Output(
            "temperature",
            "K",
            "Surface temperature, source at x = y = 0 (NaN there: the point source is singular).",
            scalar=False,
        ),
        Output("melt_pool_length", "m", "Length of the melt pool along the scan."),
        Output("melt_pool_width", "m", "Width of the melt pool on the surface."),
        Output("melt_pool_rear_length", "m", "Distance from the source to the melt-pool tail."),
        Output("melt_pool_front_length", "m", "Distance from the source to the melt-pool front."),
    )

    x_grid = np.linspace(-2e-3, 0.5e-3, 126)
    y_grid = np.linspace(0.0, 0.5e-3, 26)

    def _run(self, points: dict[str, np.ndarray], rngs: Sequence[np.random.Generator]):
        import xarray as xr

        q = points["power"] * points["absorptivity"]
        k, alpha, v = points["conductivity"], points["diffusivity"], points["speed"]
        t0, tm = points["preheat_temperature"], points["melting_temperature"]
        p = (slice(None), None, None)
        xi, y = self.x_grid[None, :, None], self.y_grid[None, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            field = rosenthal_temperature(xi, y, 0.0, q[p], k[p], alpha[p], v[p], t0[p])
        field = np.where((xi == 0.0) & (y == 0.0), np.nan, field)

        # On the axis behind the source xi + r = 0, so the tail is closed form; the front and
        # the width are found by vectorised bisection.
        rear = q / (2 * np.pi * k * (tm - t0))

        def axis_excess(s):  # s > 0 ahead of the source
            return rosenthal_temperature(s, 0.0, 0.0, q, k, alpha, v, t0) - tm

        front = _bisect(axis_excess, np.zeros_like(q), rear, increasing=False)
        xs = -rear[:, None] + (front + rear)[:, None] * np.linspace(0.0, 1.0, 801)[None, 1:-1]

        def y_excess(yy):
            return (
                rosenthal_temperature(
                    xs, yy, 0.0, q[:, None], k[:, None], alpha[:, None], v[:, None], t0[:, None]
                )
                - tm[:, None]
            )

        half = _bisect(
            y_excess, np.zeros_like(xs), np.broadcast_to(rear[:, None], xs.shape), increasing=False
        )
        j = np.argmax(half, axis=1)
        # refine the widest section: golden-section search on xi around the best grid point
        step = (front + rear) / 800
        lo, hi = xs[np.arange(len(q)), j] - step, xs[np.arange(len(q)), j] + step

        def half_width(x):
            return _bisect(
                lambda yy: rosenthal_temperature(x, yy, 0.0, q, k, alpha, v, t0) - tm,
                np.zeros_like(q),
                rear,
                increasing=False,
            )

        width = 2 * _golden_max(half_width, lo, hi)
        return xr.Dataset(
            {
                "temperature": (("point", "x", "y"), field),
                "melt_pool_length": ("point", rear + front),
                "melt_pool_width": ("point", width),
                "melt_pool_rear_length": ("point", rear),
                "melt_pool_front_length": ("point", front),
            },
            coords={
                "x": ("x", self.x_grid, {"units": "m", "long_name": "distance ahead of source"}),
                "y": ("y", self.y_grid, {"units": "m", "long_name": "distance across the track"}),
            },
        )


def _bisect(f, lo, hi, *, increasing: bool, iterations: int = 80):
    """Root of a monotone ``f`` in [lo, hi], elementwise (lo is where f > 0 if decreasing)."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            positive = f(mid) > 0
        go_up = positive != increasing  # decreasing f: positive means the root is above
        lo = np.where(go_up, mid, lo)
        hi = np.where(go_up, hi, mid)
    return 0.5 * (lo + hi)


def _golden_max(f, lo, hi, iterations: int = 60):
    """Maximum of a unimodal ``f`` on [lo, hi], elementwise."""
    g = (np.sqrt(5.0) - 1) / 2
    a, b = lo.copy(), hi.copy()
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iterations):
        left = fc > fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = f(c), f(d)
    return f(0.5 * (a + b))
