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
