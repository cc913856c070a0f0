"""Exercise checks: specific messages for the mistakes learners make, results recorded atomically."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from genesis_lab.training import checks
from genesis_lab.training.results import MARKER, read_results, results_dir


def test_dataset_check_names_what_the_learner_returned():
    df = pd.DataFrame({"temperature": [1.0]})
    with pytest.raises(checks.CheckFailed) as exc:
        checks.expect_dataset(df, ["temperature"])
    msg = str(exc.value)
    assert "expected `ds` to be an xarray.Dataset with a 'temperature' variable" in msg
    assert "you have a pandas DataFrame" in msg
    assert "gl.open_dataset" in msg


def test_dataset_check_lists_the_variables_there_are():
    ds = xr.Dataset({"half_life": ("nuclide", [1.0])})
    with pytest.raises(checks.CheckFailed, match=r"no variable 'halflife'.*'half_life'"):
        checks.expect_dataset(ds, ["halflife"])
    with pytest.raises(checks.CheckFailed, match=r"no dimension 'time'.*'nuclide'"):
        checks.expect_dataset(ds, dims=["time"])
    checks.expect_dataset(ds, ["half_life"], ["nuclide"])


def test_close_check_spots_a_unit_mistake():
    with pytest.raises(checks.CheckFailed, match="factor of 1000 — check the units"):
        checks.expect_close(1.2, 1200.0, rel=0.01, name="width", unit="µm")
    with pytest.raises(checks.CheckFailed, match="expected `x` to be a number; you have None"):
        checks.expect_close(None, 1.0, name="x")
    checks.expect_close(1.005, 1.0, rel=0.01)


def test_dataarray_check_suggests_selecting_a_variable():
    ds = xr.Dataset({"t": ("x", np.ones(3))})
    with pytest.raises(checks.CheckFailed, match=r"you have an xarray.Dataset .* ds\['name'\]"):
        checks.expect_dataarray(ds)
    with pytest.raises(checks.CheckFailed, match=r"dimensions \('y',\); it has \('x',\)"):
        checks.expect_dataarray(ds["t"], ["y"])


def test_entries_check_on_real_search():
    import genesis_lab as gl

    checks.expect_entries(gl.search("neutron", kind="dataset"), kind="dataset")
    with pytest.raises(checks.CheckFailed, match="a simulator, not a dataset"):
        checks.expect_entries(gl.search("kinetics", kind="simulator"), kind="dataset")
    with pytest.raises(checks.CheckFailed, match="list of catalog entries; you have a str"):
        checks.expect_entries("nuclear-energy/point-kinetics")


def test_workbook_records_pass_fail_and_errors(tmp_path):
    book = checks.Workbook("nb", ["a", "b", "c"], folder=tmp_path)
    with book.exercise("a"):
        checks.expect_equal(1, 1)
    with pytest.raises(checks.CheckFailed), book.exercise("b"):
        checks.expect_equal(1, 2, name="answer")
    with pytest.raises(KeyError), book.exercise("c"):
        {}["missing"]
    data = read_results(tmp_path / "nb.json")["exercises"]
    assert data["a"]["passed"] is True
    assert data["b"] == data["b"] | {"passed": False, "message": "`answer` is 1, expected 2"}
    assert data["c"]["message"] == "your code raised KeyError: 'missing'"
    assert book.summary() == "1/3 exercises pass; still to do: b, c"
    with book.exercise("b"):
        pass
    assert read_results(tmp_path / "nb.json")["exercises"]["b"]["attempts"] == 2
    assert not list(tmp_path.glob(".*tmp"))  # atomic writes leave no temporary file


def test_ipython_shows_only_the_message():
    exc = checks.CheckFailed("`x` is 1, expected 2")
    assert exc._render_traceback_() == ["\x1b[31m✗ `x` is 1, expected 2\x1b[0m"]


def test_results_go_to_the_course_folder_named_by_the_marker(tmp_path, genesis_home):
    assert results_dir(tmp_path) == genesis_home / "state" / "training"
    course = tmp_path / "courses" / "c1"
    (course / "sub").mkdir(parents=True)
    (course / MARKER).write_text(json.dumps({"results_dir": str(tmp_path / "store")}))
    assert results_dir(course / "sub") == tmp_path / "store"
