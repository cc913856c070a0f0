"""Training on a simulator sweep, a catalog dataset and a frame; held-out metrics and the card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import genesis_lab as gl
from genesis_lab.errors import ModelError

# held-out rows may lie just outside the training ranges; the card's figures include them
HELD_OUT = pytest.mark.filterwarnings("ignore::genesis_lab.errors.ExtrapolationWarning")


@pytest.fixture(scope="module")
def melt_pool_sweep():
    from genesis_lab.simulators.sweep import sweep

    sim = gl.get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    return sweep(sim, {"power": (100.0, 400.0), "speed": (0.2, 2.0)}, method="lhs", n=60,
                 seed=3, progress=False, cache=False)  # fmt: skip


CASCADE = "critical-materials/solvent-extraction-cascade"
CASCADE_SPACE = {"n_stages": (1, 12), "distribution_ratio": (0.2, 5.0), "flow_ratio": (0.2, 5.0)}


def _fresh_runs(model, sim_id, n, seed):
    """``n`` new simulator runs drawn uniformly inside the card's feature ranges."""
    rng = np.random.default_rng(seed)
    pts = {}
    for f in model.card.features:
        lo, hi = f["min"], f["max"]
        if f["name"] == "n_stages":
            pts[f["name"]] = rng.integers(int(np.ceil(lo)), int(hi) + 1, n)
        else:
            pts[f["name"]] = rng.uniform(lo, hi, n)
    truth = gl.get_simulator(sim_id).run_batch(pts)[model.card.target].values
    return pts, truth


@pytest.fixture(scope="module")
def cascade_gp():
    """A GP of the cascade's recovery, calibrated on 240 held-back rows (sd of coverage ~1.4 pt)."""
    from genesis_lab.simulators.sweep import sweep

    runs = sweep(CASCADE, CASCADE_SPACE, method="lhs", n=400, seed=5, progress=False, cache=False)
    model = gl.train(runs, "recovery_a", list(CASCADE_SPACE), kind="gp", calibration_size=0.75,
                     model_id="critical-materials/test-recovery", seed=4)  # fmt: skip
    return runs, model


def test_gp_95_percent_intervals_cover_95_percent_of_fresh_runs(cascade_gp):
    _, model = cascade_gp
    pts, truth = _fresh_runs(model, CASCADE, 2000, seed=21)
    mean, std = model.predict(pts, return_std=True)
    inside = np.abs(truth - mean) <= 1.959963984540054 * std  # the normal 97.5 % quantile
    # 2000 points measure a coverage to +-0.5 points (one sd): within 3 points of nominal
    assert abs(inside.mean() - 0.95) <= 0.03, inside.mean()
    lo, hi = model.predict_interval(pts, 0.95)
    assert np.array_equal((truth >= lo) & (truth <= hi), inside)
    card = model.card
    assert card.calibration["rows"] == 240 and card.training_data["rows_fit"] == 80


def _recomputed(y, pred, std):
    """R², MAE, RMSE and the 95 % coverage, from their definitions."""
    resid = y - pred
    return {
        "r2": 1 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2),
        "mae": np.mean(np.abs(resid)),
        "rmse": np.sqrt(np.mean(resid**2)),
        "coverage_95": np.mean(np.abs(resid) <= 1.959963984540054 * std),
        "coverage_68": np.mean(np.abs(resid) <= 1.0 * std),
    }


@HELD_OUT
def test_card_figures_are_those_of_its_held_out_rows(cascade_gp):
    """The card's metrics, recomputed from the rows it says it held out (same split seed)."""
    from sklearn.model_selection import train_test_split

    runs, model = cascade_gp
    X = np.column_stack([runs[f].values for f in model.features]).astype(float)
    y = runs["recovery_a"].values
    td = model.card.training_data
    _, test = train_test_split(np.arange(len(y)), test_size=td["test_size"],
                               random_state=td["split_seed"])  # fmt: skip
    assert td["rows_test"] == len(test) == 80
    pred, std = model.predict(X[test], return_std=True)
    expected = _recomputed(y[test], pred, std)
    for key, value in expected.items():
        assert model.card.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


@HELD_OUT
def test_card_figures_with_given_test_data_match_a_recomputation():
    from genesis_lab.simulators.sweep import sweep

    train_runs = sweep(CASCADE, CASCADE_SPACE, method="lhs", n=120, seed=8, progress=False,
                       cache=False)  # fmt: skip
    test_runs = sweep(CASCADE, CASCADE_SPACE, method="lhs", n=300, seed=9, progress=False,
                      cache=False)  # fmt: skip
    model = gl.train(train_runs, "recovery_a", list(CASCADE_SPACE), kind="gp",
                     test_data=test_runs, model_id="critical-materials/test-given")  # fmt: skip
    td = model.card.training_data
    assert td["rows_train"] == 120 and td["rows_test"] == 300 and td["test_size"] is None
    assert td["test_data"]["seed"] == "9" and len(td["test_data"]["sha256"]) == 64
    X = np.column_stack([test_runs[f].values for f in model.features]).astype(float)
    pred, std = model.predict(X, return_std=True)
    expected = _recomputed(test_runs["recovery_a"].values, pred, std)
    for key, value in expected.items():
        assert model.card.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    # 30 calibration rows: the card says the intervals are rough
    assert any("calibrated on only 30 rows" in x for x in model.card.limitations)


def test_predicting_outside_the_training_ranges_warns(melt_pool_sweep):
    from genesis_lab.errors import ExtrapolationWarning

    model = gl.train(melt_pool_sweep, "melt_pool_width", kind="linear",
                     model_id="advanced-manufacturing/test-ranges")  # fmt: skip
    power = model.card.features[0]
    inside = {"power": [power["min"], power["max"]], "speed": [1.0, 1.0]}
    model.predict(inside)  # no warning: pytest turns warnings into errors
    with pytest.warns(ExtrapolationWarning, match=r"power \(1 of 2 rows outside \[") as rec:
        model.predict({"power": [power["max"] * 1.5, 200.0], "speed": [1.0, 1.0]})
    assert "speed" not in str(rec[0].message)
    with pytest.warns(ExtrapolationWarning, match="speed"):
        model.predict(np.array([[200.0, 0.01]]))


def test_fit_problems_are_one_sentence_not_raw_warnings(melt_pool_sweep):
    """Noise-free simulator data drive the GP noise to its bound: the card says so plainly."""
    model = gl.train(melt_pool_sweep, "melt_pool_width", kind="gp",
                     model_id="advanced-manufacturing/test-note")  # fmt: skip
    text = " ".join(model.card.limitations)
    assert "Increasing the bound" not in text and "k2__noise_level" not in text
    notes = [x for x in model.card.limitations if x.startswith("The fit ")]
    assert len(notes) == 1 and notes[0].count(". ") == 0  # one sentence
    assert "the noise level at its lower bound" in notes[0]


def test_fit_note_names_parameters_in_words():
    from genesis_lab.models.calibration import fit_note

    raw = [
        "The optimal value found for dimension 1 of parameter k1__k2__length_scale is close to "
        "the specified upper bound 10000.0. Increasing the bound and calling fit again may find "
        "a better value.",
        "lbfgs failed to converge (status=2): ABNORMAL.",
    ]
    note = fit_note(raw, ["power", "speed"], calibrated=False)
    assert note == (
        "The fit put the length scale of speed at its upper bound and reported 1 other "
        "optimiser warning."
    )
    assert fit_note([], ["power"]) is None


def test_card_records_data_features_metrics_and_limits(melt_pool_sweep):
    model = gl.train(melt_pool_sweep, "melt_pool_length", ["power", "speed"], kind="linear",
                     model_id="advanced-manufacturing/test-length")  # fmt: skip
    card = model.card
    assert card.target == "melt_pool_length" and card.target_unit == "m"
    assert [f["unit"] for f in card.features] == ["W", "m/s"]
    assert card.features[0]["min"] >= 100.0 and card.features[0]["max"] <= 400.0
    td = card.training_data
    assert td["simulator_id"] == "advanced-manufacturing/rosenthal-melt-pool"
    assert td["rows"] == 60 and td["rows_train"] + td["rows_test"] == 60
    assert len(td["sha256"]) == 64
    assert set(card.metrics) >= {"r2", "mae", "rmse"} and "coverage_95" not in card.metrics
    assert any("training ranges" in x for x in card.limitations)
    assert "## Uncertainty calibration" in card.to_markdown()
    assert card.intended_use and card.version == "1" and card.libraries["scikit-learn"]
    assert "## Held-out metrics" in card.to_markdown()
    # the checksum is of the numbers trained on: another sweep gives another checksum
    other = gl.train(melt_pool_sweep.isel(sample=slice(0, 50)), "melt_pool_length",
                     ["power", "speed"], kind="linear")  # fmt: skip
    assert other.card.training_data["sha256"] != td["sha256"]


def test_train_on_a_catalog_dataset_by_id():
    model = gl.train("semiconductors/cec-pv-modules", "PTC", ["STC", "N_s"], kind="linear",
                     model_id="semiconductors/test-ptc")  # fmt: skip
    assert model.card.training_data["dataset_id"] == "semiconductors/cec-pv-modules"
    assert model.card.metrics["r2"] > 0.95
    assert model.card.features[0]["unit"] == "W"


@pytest.mark.parametrize("kind", ["random_forest", "gradient_boosting"])
def test_tree_learners_on_a_frame(kind):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.uniform(0, 1, 300), "b": rng.uniform(0, 1, 300)})
    df["y"] = np.sin(4 * df.a) + df.b**2
    model = gl.train(df, "y", kind=kind, model_id="semiconductors/test-trees")
    assert model.card.metrics["r2"] > 0.9
    with pytest.raises(ModelError, match="gives no uncertainty"):
        model.predict(df[["a", "b"]], return_std=True)


def test_bad_training_requests_name_the_problem(melt_pool_sweep):
    with pytest.raises(ModelError, match=r"target='nope'.*melt_pool_width"):
        gl.train(melt_pool_sweep, "nope")
    with pytest.raises(ModelError, match=r"kind='svm'.*gp"):
        gl.train(melt_pool_sweep, "melt_pool_width", kind="svm")
    with pytest.raises(ModelError, match=r"features \['power2'\]"):
        gl.train(melt_pool_sweep, "melt_pool_width", ["power2"])
    model = gl.train(melt_pool_sweep, "melt_pool_width", kind="linear")
    with pytest.raises(ModelError, match="inputs \\['speed'\\] are missing"):
        model.predict({"power": [1.0]})


def test_notebook_view_shows_the_card(melt_pool_sweep):
    model = gl.train(melt_pool_sweep, "melt_pool_length", ["power", "speed"], kind="linear",
                     model_id="advanced-manufacturing/test-view")  # fmt: skip
    page = model._repr_html_()
    card = model.card
    assert f"<b>{card.title}</b>" in page and "advanced-manufacturing/test-view v1" in page
    assert f"<td>{card.metrics['r2']:.4g}</td>" in page
    power = card.features[0]
    assert f"<td>{power['min']:.4g} to {power['max']:.4g} W</td>" in page
    assert "predicting outside them gives an ExtrapolationWarning" in page
