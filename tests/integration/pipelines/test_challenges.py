"""The shipped challenges: 20+ across the six domains, consistent schemas, each runs with defaults."""

import ast
import collections

import nbformat
import pytest

from genesis_lab.catalog import DOMAINS, load_catalog
from genesis_lab.pipelines import list_challenges, run
from genesis_lab.settings import REPO_DIR

CHALLENGES = sorted(
    p.parent.name for p in (REPO_DIR / "notebooks" / "challenges").glob("*/challenge.yaml")
)


def test_registry_spans_the_six_domains():
    chs = list_challenges()
    assert len(chs) >= 20
    per_domain = collections.Counter(c.domain for c in chs)
    assert set(per_domain) == set(DOMAINS)
    assert min(per_domain.values()) >= 3, per_domain


@pytest.mark.parametrize("cid", CHALLENGES)
def test_notebook_matches_its_schema_and_uses_catalog_assets(cid):
    [ch] = [c for c in list_challenges() if c.id == cid]
    nb = nbformat.read(ch.notebook_path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.language_info.name == "python"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    defaults = {}
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        defaults[node.targets[0].id] = ast.literal_eval(node.value)
    assert defaults == {name: p.default for name, p in ch.parameters.items()}
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "gl.record_metrics(" in source and "hv." in source
    catalog = load_catalog(warn=False)
    for asset in (*ch.datasets, *ch.simulators, *ch.models):
        assert asset in catalog, asset
        assert asset in source, f"{asset} is declared but not used"
    assert ch.datasets or ch.simulators
    assert ch.catalog_id in catalog


@pytest.mark.slow
@pytest.mark.parametrize("cid", CHALLENGES)
def test_challenge_runs_with_its_defaults(cid):
    result = run(cid)
    assert result.status == "completed"
    assert set(result.metrics) >= set(next(c for c in list_challenges() if c.id == cid).metrics)
