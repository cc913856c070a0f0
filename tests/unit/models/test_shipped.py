"""The shipped models: in the catalog, loadable by id, and as good as their cards say."""

from __future__ import annotations

import numpy as np
import pytest

import genesis_lab as gl

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


@pytest.mark.parametrize(
    ("model_id", "sim_id"),
    [
        (SHIPPED[0], "advanced-manufacturing/rosenthal-melt-pool"),
        (SHIPPED[1], "critical-materials/solvent-extraction-cascade"),
    ],
)
def test_surrogates_match_their_simulator_as_the_card_says(model_id, sim_id):
    model = gl.load_model(model_id)
    mae = _check_against_simulator(model, sim_id, 40, seed=11)
    # fresh points inside the training ranges: within 3x of the held-out MAE on the card
    assert mae <= 3 * model.card.metrics["mae"], (mae, model.card.metrics)


def test_dataset_model_matches_its_card_on_catalog_rows():
    model = gl.load_model(SHIPPED[2])
    ds = gl.open_dataset("semiconductors/cec-pv-modules")
    rows = np.random.default_rng(5).choice(ds.sizes["module"], 500, replace=False)
    sub = ds.isel(module=rows)
    pred = model.predict({f: sub[f].values for f in model.features})
    mae = float(np.mean(np.abs(pred - sub["PTC"].values)))
    # mostly training rows, so at most the held-out MAE (plus slack)
    assert mae <= 1.5 * model.card.metrics["mae"]
    assert model.card.metrics["r2"] > 0.99
