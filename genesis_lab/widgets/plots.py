"""Default holoviews plots of simulator and dataset outputs (bokeh backend)."""

from __future__ import annotations

from typing import Any

__all__ = ["dataset_plot", "ensure_bokeh"]

_BOKEH_LOADED = False

X_NAMES = ("time", "t", "x", "position", "depth", "z", "distance", "field", "temperature")


def _x_for(ds: Any, dim: str) -> tuple[str, Any]:
    if dim in ds.coords:
        return dim, ds[dim].values
    for name in X_NAMES:
        if name in ds.data_vars and ds[name].dims == (dim,):
            return name, ds[name].values
    import numpy as np

    return dim, np.arange(ds.sizes[dim])


def ensure_bokeh() -> None:
    """Load holoviews' bokeh backend once, with BokehJS inlined (sessions have no CDN).

    Importing ``holoviews.plotting.bokeh`` alone registers the renderer but not the ``hv.opts``
    builders, and emits no JS in a notebook, so ``hv.extension`` runs once per process.
    """
    global _BOKEH_LOADED
    if _BOKEH_LOADED:
        return
    import holoviews as hv

    hv.extension("bokeh", logo=False, inline=True)
    _BOKEH_LOADED = True


def dataset_plot(ds: Any, *, width: int = 600, height: int = 300) -> Any:
    """An overlay of every 1-d variable along the first dimension, or an image of a 2-d one.

    The plot fills its output area's width (``responsive``, never narrower than ``min(width,
    320)`` px, so a narrow window does not cut it off), at a fixed ``height``.

    >>> from genesis_lab.simulators import get_simulator
    >>> plot = dataset_plot(get_simulator("biotechnology/michaelis-menten").run(seed=0))  # doctest: +SKIP
    """
    import holoviews as hv

    ensure_bokeh()
    one_d = [v for v in ds.data_vars if ds[v].ndim == 1]
    if one_d:
        dim = ds[one_d[0]].dims[0]
        xname, x = _x_for(ds, dim)
        curves = []
        for name in one_d:
            if name == xname or ds[name].dims != (dim,):
                continue
            unit = ds[name].attrs.get("units", "")
            label = f"{name} [{unit}]" if unit else name
            curves.append(
                hv.Curve(
                    (x, ds[name].values),
                    xname,
                    "value",
                    label=label.replace("[", "(").replace("]", ")"),
                )
            )
        if curves:
            return hv.Overlay(curves).opts(
                hv.opts.Curve(
                    responsive=True, min_width=min(width, 320), height=height, tools=["hover"]
                ),
                hv.opts.Overlay(
                    legend_position="bottom",
                    legend_cols=2,
                    toolbar="above",
                    responsive=True,
                    min_width=min(width, 320),
                    height=height,
                ),
            )
    two_d = [v for v in ds.data_vars if ds[v].ndim == 2]
    if two_d:
        name = two_d[0]
        return hv.Image(ds[name].values, label=name).opts(
            responsive=True, min_width=min(width, 320), height=height, colorbar=True
        )
    return None
