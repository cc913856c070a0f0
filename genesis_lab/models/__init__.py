"""Predictive models (surrogates): train on datasets or sweeps, evaluate, card, save safely, load.

>>> import genesis_lab as gl
>>> model = gl.load_model("advanced-manufacturing/melt-pool-width-gp")
>>> width = model.predict({"power": [200.0], "speed": [0.8]})
"""

from genesis_lab.models.card import ModelCard
from genesis_lab.models.registry import load_model, register_model
from genesis_lab.models.train import KINDS, Model, train

__all__ = ["KINDS", "Model", "ModelCard", "load_model", "register_model", "train"]
