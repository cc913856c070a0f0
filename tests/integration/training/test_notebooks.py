"""Every training notebook runs top to bottom under papermill on a real kernel, checks passing."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from genesis_lab.training.results import read_results

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((REPO / "notebooks" / "training").glob("*.ipynb"))


def test_there_are_five_training_notebooks_with_exercises():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert nb.metadata["language_info"]["name"] == "python"
        exercises = nb.metadata["genesis"]["exercises"]
        sources = "\n".join(c.source for c in nb.cells)
        for ex in exercises:
            assert f'book.exercise("{ex}")' in sources, (path.name, ex)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_papermill_and_every_check_passes(path, tmp_path, genesis_home):
    import papermill

    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
    )
    nb = json.loads(out.read_text())
    expected = nb["metadata"]["genesis"]["exercises"]
    results = read_results(genesis_home / "state" / "training" / f"{path.stem}.json")
    assert {ex: r["passed"] for ex, r in results["exercises"].items()} == dict.fromkeys(
        expected, True
    )
    assert results["user"]


@pytest.mark.slow
def test_a_wrong_answer_is_explained_and_recorded(tmp_path, genesis_home):
    """The learner keeps the half-life in seconds: the check says so, in the kernel and the file."""
    import papermill

    path = REPO / "notebooks" / "training" / "02-xarray-real-data.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("co60_years ="))
    cell.source = 'co60_years = float(decay.half_life.sel(nuclide="Co-60"))'
    wrong = tmp_path / "wrong.ipynb"
    nbformat.write(nb, wrong)
    with pytest.raises(papermill.PapermillExecutionError) as exc:
        papermill.execute_notebook(
            str(wrong), str(tmp_path / "out.ipynb"), cwd=str(tmp_path), progress_bar=False
        )
    message = "`co60_years` is 1.66346e+08 y, expected 5.2713 y"
    assert message in str(exc.value)
    assert "divide by 365.25 * 86400" in str(exc.value)
    assert "Traceback" not in str(exc.value)  # the learner sees the message, not a stack
    recorded = read_results(genesis_home / "state" / "training" / "02-xarray-real-data.json")
    assert recorded["exercises"]["cobalt-half-life"]["passed"] is False
    assert message in recorded["exercises"]["cobalt-half-life"]["message"]
    assert recorded["exercises"]["solar-total"]["passed"] is True
