"""Simulators: a typed parameter schema, vectorised ``run``/``run_batch``, sweeps on dask.

>>> from genesis_lab.simulators import get_simulator
>>> ds = get_simulator("biotechnology/michaelis-menten").run({"s0": 2.0})  # doctest: +SKIP
"""

from genesis_lab.simulators.base import Output, Parameter, Simulator
from genesis_lab.simulators.registry import get_simulator, list_simulators

__all__ = ["Output", "Parameter", "Simulator", "get_simulator", "list_simulators", "sweep"]


def __getattr__(name: str):
    if name == "sweep":
        from genesis_lab.simulators.sweep import sweep

        return sweep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
