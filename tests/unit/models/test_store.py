"""Saving and loading without pickle: round trip, a tampered file refused, untrusted types refused."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import genesis_lab as gl
from genesis_lab.errors import ModelError
from genesis_lab.models.store import load_model_dir


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.uniform(0, 1, 40), "z": rng.uniform(0, 1, 40)})
    df["y"] = 2 * df.x - df.z
    return gl.train(df, "y", kind="gp", model_id="semiconductors/test-roundtrip")


def test_round_trip_predicts_the_same(model, tmp_path):
    folder = model.save(tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.skops"]
    loaded = load_model_dir(folder)
    X = {"x": [0.1, 0.5], "z": [0.3, 0.9]}
    assert np.allclose(loaded.predict(X), model.predict(X))
    assert loaded.card == model.card
    with zipfile.ZipFile(folder / "model.skops") as zf:  # a skops zip, not a pickle
        assert "schema.json" in zf.namelist()


def test_model_load_beside_save(model, tmp_path):
    from genesis_lab.models import Model

    folder = model.save(tmp_path / "m")
    loaded = Model.load(folder)
    X = {"x": [0.25, 0.75], "z": [0.5, 0.1]}
    mean, std = loaded.predict(X, return_std=True)
    mean0, std0 = model.predict(X, return_std=True)
    assert np.array_equal(mean, mean0) and np.array_equal(std, std0)  # calibration kept
    assert loaded.card.calibration == model.card.calibration and loaded.std_scale != 1.0
    with pytest.raises(ModelError, match="card"):
        Model.load(tmp_path / "nothing-here")


def test_changed_bytes_are_refused(model, tmp_path):
    folder = model.save(tmp_path / "m")
    data = bytearray((folder / "model.skops").read_bytes())
    data[-30] ^= 0xFF
    (folder / "model.skops").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="changed after it was saved"):
        load_model_dir(folder)


def test_untrusted_types_are_refused_even_with_a_matching_checksum(model, tmp_path):
    """An attacker who also rewrites the card's checksum still cannot get code loaded."""
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    folder = model.save(tmp_path / "m")
    evil = FunctionTransformer(func=print)  # a callable: skops marks it untrusted
    sio.dump(evil, folder / "model.skops")
    card = json.loads((folder / "card.json").read_text())
    from genesis_lab.models.store import _sha256

    card["model_sha256"] = _sha256(folder / "model.skops")
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="outside the allow-list"):
        load_model_dir(folder)


def test_register_model_then_load_it_from_the_catalog(model):
    from genesis_lab.models import register_model

    entry = register_model(model)
    assert entry.kind == "model" and entry.provenance.sha256 == model.card.model_sha256
    loaded = gl.load_model("semiconductors/test-roundtrip")
    assert np.allclose(
        loaded.predict({"x": [0.2], "z": [0.2]}), model.predict({"x": [0.2], "z": [0.2]})
    )
    with pytest.raises(ModelError, match="already in the catalog"):
        register_model(model)


def test_weights_other_than_the_catalogued_ones_are_refused(model, tmp_path):
    """A registered model whose folder was replaced by another model (card and weights agree
    with each other) no longer matches the sha256 in its catalog entry."""
    from genesis_lab.catalog import get_catalog
    from genesis_lab.models import register_model

    entry = register_model(model)
    df = pd.DataFrame({"x": np.linspace(0, 1, 20), "z": np.linspace(1, 0, 20) ** 2})
    df["y"] = df.x + 3 * df.z
    other = gl.train(df, "y", kind="linear", model_id=model.id)
    other.save(entry.options["path"])
    get_catalog.cache_clear()
    with pytest.raises(ModelError, match=r"catalog records sha256 .* refusing to use it"):
        gl.load_model(model.id)
