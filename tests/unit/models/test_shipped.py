"""The shipped models: in the catalog, loadable by id, and as good as their cards say."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import genesis_lab as gl

# held-out rows may lie just outside the training ranges; the card's figures include them
HELD_OUT = pytest.mark.filterwarnings("ignore::genesis_lab.errors.ExtrapolationWarning")

SHIPPED = [
    "advanced-manufacturing/melt-pool-width-gp",
    "critical-materials/extraction-recovery-gp",
    "semiconductors/cec-module-ptc-gb",
]


def test_every_shipped_model_is_a_catalog_entry():
    ids = {e.id for e in gl.search(kind="model")}
    assert set(SHIPPED) <= ids
    from genesis_lab.catalog import get_catalog

    entry = get_catalog().get(SHIPPED[0])
    assert entry.provenance.sha256 and "advanced-manufacturing/rosenthal-melt-pool" in (
        entry.provenance.derived_from
    )


def _check_against_simulator(model, sim_id, n, seed):
    sim = gl.get_simulator(sim_id)
    rng = np.random.default_rng(seed)
    pts = {}
    for f in model.card.features:
        lo, hi = f["min"], f["max"]
        if f["name"] == "n_stages":
            pts[f["name"]] = rng.integers(int(lo), int(hi) + 1, n)
        else:
            pts[f["name"]] = rng.uniform(lo, hi, n)
    truth = sim.run_batch(pts)[model.card.target].values
    pred = model.predict(pts)
    return float(np.mean(np.abs(pred - truth)))


GP_SURROGATES = [
    (SHIPPED[0], "advanced-manufacturing/rosenthal-melt-pool"),
    (SHIPPED[1], "critical-materials/solvent-extraction-cascade"),
]


@pytest.mark.parametrize(("model_id", "sim_id"), GP_SURROGATES)
def test_surrogates_match_their_simulator_as_the_card_says(model_id, sim_id):
    model = gl.load_model(model_id)
    mae = _check_against_simulator(model, sim_id, 40, seed=11)
    # fresh points inside the training ranges: within 3x of the held-out MAE on the card
    assert mae <= 3 * model.card.metrics["mae"], (mae, model.card.metrics)


def _table_sha256(features, target, X, y):
    """The card's checksum of the numbers, by its definition (names, then float64 bytes)."""
    h = hashlib.sha256(",".join([*features, target]).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


@HELD_OUT
@pytest.mark.parametrize(("model_id", "sim_id"), GP_SURROGATES)
def test_card_figures_are_recomputed_from_its_test_runs(model_id, sim_id):
    """Re-run the sweep the card names as its test data; the card's figures are what it gives,
    and its 95 % intervals cover 95 % (within 3 points) of those 2000 held-out runs."""
    from genesis_lab.simulators.sweep import sweep

    model = gl.load_model(model_id)
    td = model.card.training_data["test_data"]
    assert td["simulator_id"] == sim_id
    space = {k: tuple(v) for k, v in json.loads(td["sweep_space"]).items()}
    n = model.card.training_data["rows_test"]
    runs = sweep(sim_id, space, method=td["sweep_method"], n=n, seed=int(td["seed"]),
                 progress=False, cache=False)  # fmt: skip
    X = np.column_stack([runs[f].values for f in model.features]).astype(np.float64)
    y = runs[model.card.target].values.astype(np.float64)
    assert _table_sha256(model.features, model.card.target, X, y) == td["sha256"]
    pred, std = model.predict(X, return_std=True)
    resid = y - pred
    inside = np.abs(resid) <= 1.959963984540054 * std  # the normal 97.5 % quantile
    expected = {
        "r2": 1 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2),
        "mae": np.mean(np.abs(resid)),
        "rmse": np.sqrt(np.mean(resid**2)),
        "coverage_95": inside.mean(),
        "coverage_68": np.mean(np.abs(resid) <= std),
        "n_test": float(n),
    }
    for key, value in expected.items():
        assert model.card.metrics[key] == pytest.approx(value, rel=1e-6, abs=1e-12), key
    assert n >= 2000 and abs(inside.mean() - 0.95) <= 0.03, inside.mean()


def test_dataset_model_matches_its_card_on_catalog_rows():
    model = gl.load_model(SHIPPED[2])
    ds = gl.open_dataset("semiconductors/cec-pv-modules")
    rows = np.random.default_rng(5).choice(ds.sizes["module"], 500, replace=False)
    sub = ds.isel(module=rows)
    keep = np.ones(500, bool)  # rows inside the card's ranges: the model's intended use
    for f in model.card.features:
        keep &= (sub[f["name"]].values >= f["min"]) & (sub[f["name"]].values <= f["max"])
    sub = sub.isel(module=np.flatnonzero(keep))
    assert sub.sizes["module"] > 450
    pred = model.predict({f: sub[f].values for f in model.features})
    mae = float(np.mean(np.abs(pred - sub["PTC"].values)))
    # mostly training rows, so at most the held-out MAE (plus slack)
    assert mae <= 1.5 * model.card.metrics["mae"]
    assert model.card.metrics["r2"] > 0.99
