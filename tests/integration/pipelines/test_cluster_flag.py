"""``--cluster``: the kernel is bound to the allocation; a non-member is refused before any kernel."""

import nbformat
import pytest
import yaml

from genesis_lab.errors import AllocationError, PipelineError
from genesis_lab.pipelines import run
from genesis_lab.settings import get_settings, reset_settings


@pytest.fixture
def bound_challenge(demo_challenge, tmp_path, monkeypatch):
    folder = demo_challenge.parent / "bound"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import genesis_lab as gl\n"
        "from genesis_lab.compute.allocations import get_allocation\n"
        "alloc = get_allocation()\n"
        "gl.record_metrics(bound=int(alloc is not None and alloc.id == 'lab-local'), cores=alloc.cores if alloc else 0)"
    )]  # fmt: skip
    nbformat.write(nb, folder / "challenge.ipynb")
    (folder / "challenge.yaml").write_text(yaml.safe_dump({
        "id": "bound", "domain": "semiconductors", "title": "Bound", "question": "Which allocation?",
        "parameters": {"x": {"type": "int", "default": 1}}, "metrics": {"bound": {}, "cores": {}}}))  # fmt: skip
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [
        {"id": "lab-local", "scheduler": "local", "cores": 2, "members": ["*"]},
        {"id": "closed", "scheduler": "local", "members": ["somebody-else"]}]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return folder


def test_cluster_run_binds_the_kernel_to_the_allocation(bound_challenge):
    plain = run("bound")
    assert plain.metrics == {"bound": 0, "cores": 0} and plain.record.status["allocation"] is None
    # where a run executes is not part of its cache key: the stored result answers
    assert run("bound", cluster=True, allocation="lab-local").run_id == plain.run_id
    bound = run("bound", cluster=True, allocation="lab-local", force=True)
    assert bound.metrics == {"bound": 1, "cores": 2}
    assert bound.record.status["allocation"] == "lab-local"


def test_cluster_run_is_refused_for_a_non_member_and_without_allocation(bound_challenge):
    with pytest.raises(AllocationError, match="not a member of allocation 'closed'"):
        run("bound", cluster=True, allocation="closed")
    with pytest.raises(PipelineError, match="--cluster needs an allocation"):
        run("bound", cluster=True)
    assert not (get_settings().results_root / "bound").exists()
