"""Simulators: a typed parameter schema, vectorised ``run``/``run_batch``, sweeps on dask.

>>> from genesis_lab.simulators import get_simulator
>>> ds = get_simulator("biotechnology/michaelis-menten").run({"s0": 2.0})  # doctest: +SKIP
"""

from genesis_lab.simulators.base import Output, Parameter, Simulator
from genesis_lab.simulators.registry import get_simulator, list_simulators
from genesis_lab.simulators.sweep import sweep  # the function, not the submodule

__all__ = ["Output", "Parameter", "Simulator", "get_simulator", "list_simulators", "sweep"]
