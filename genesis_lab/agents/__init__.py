"""Closed-loop agents: campaigns that explore a design space with a policy and store every trial.

>>> from genesis_lab.agents import Campaign, Space
>>> c = Campaign(Space.from_dict({"x": (0.0, 1.0)}), "y", policy="random", budget=3,
...              experiment=lambda p: {"y": p["x"]})  # doctest: +SKIP
"""

from genesis_lab.agents.campaign import Campaign
from genesis_lab.agents.instrument import Instrument, InstrumentError, SimulatedInstrument
from genesis_lab.agents.objective import Constraint, Objective, Target
from genesis_lab.agents.space import Dimension, Space

__all__ = [
    "Campaign",
    "Constraint",
    "Dimension",
    "Instrument",
    "InstrumentError",
    "Objective",
    "SimulatedInstrument",
    "Space",
    "Target",
]
