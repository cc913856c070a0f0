"""challenge.yaml: loading, validation messages, lookup by id and catalog id, catalog entries."""

import pytest
import yaml

from genesis_lab.errors import ChallengeNotFoundError, ParameterError, PipelineError
from genesis_lab.pipelines import get_challenge, list_challenges


def test_demo_challenge_loads_with_its_schema(demo_challenge):
    ch = get_challenge("demo")
    assert ch.catalog_id == "semiconductors/demo"
    assert get_challenge("semiconductors/demo") == ch
    assert ch.primary.name == "total" and ch.primary.goal == "maximize"
    schema = {p["name"]: p for p in ch.parameter_schema()}
    assert schema["scale"]["unit"] == "1" and schema["scale"]["max"] == 10
    assert schema["mode"]["choices"] == ["sum", "square"]
    assert [c.id for c in list_challenges()] == ["demo"]


def test_unknown_challenge_suggests_close_ids(demo_challenge):
    with pytest.raises(ChallengeNotFoundError, match="Closest: demo"):
        get_challenge("dem")
    with pytest.raises(ChallengeNotFoundError):
        get_challenge("nuclear-energy/demo")  # wrong domain


def test_unknown_parameter_is_rejected_by_the_challenge(demo_challenge):
    with pytest.raises(ParameterError, match="unknown parameter 'x = 1; import os #'"):
        get_challenge("demo").validate_parameters({"x = 1; import os #": 1})


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"domain": "astrology"}, "domain"),
        ({"metrics": {}}, "metrics"),
        ({"primary_metric": "nope"}, "primary_metric 'nope'"),
        ({"parameters": {"bad name": {"type": "int", "default": 1}}}, "not a plain identifier"),
        ({"parameters": {"n": {"type": "int", "default": 0, "min": 1}}}, "out of bounds"),
        ({"parameters": {"n": {"type": "complex", "default": 0}}}, "parameters.n"),
        ({"notebook": "missing.ipynb"}, "missing.ipynb"),
    ],
)
def test_invalid_challenge_yaml_names_the_field(demo_challenge, change, fragment):
    path = demo_challenge / "challenge.yaml"
    spec = yaml.safe_load(path.read_text()) | change
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(PipelineError, match=r"challenge\.yaml") as err:
        get_challenge("demo")
    assert fragment in str(err.value)


def test_catalog_lists_the_challenge(demo_challenge):
    from genesis_lab.catalog import load_catalog

    entry = load_catalog(warn=False).get("semiconductors/demo")
    assert entry.kind == "challenge"
    assert entry.options["challenge"] == "demo"


def test_display_only_parameter_is_in_the_schema_and_in_challenge_show(demo_challenge, capsys):
    from genesis_lab.cli import main

    path = demo_challenge / "challenge.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["parameters"]["sleep"] |= {"display_only": True, "description": "pause before summing"}
    path.write_text(yaml.safe_dump(spec))
    schema = {p["name"]: p for p in get_challenge("demo").parameter_schema()}
    assert schema["sleep"]["display_only"] is True and schema["n"]["display_only"] is False
    assert main(["challenge", "show", "demo"]) == 0
    out = capsys.readouterr().out
    assert "display only" in out and "--sleep: pause before summing" in out
    assert "--n:" not in out


def test_display_only_needs_a_reason(demo_challenge):
    path = demo_challenge / "challenge.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["parameters"]["n"]["display_only"] = True
    del spec["parameters"]["n"]["description"]
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(PipelineError, match="display_only needs a description"):
        get_challenge("demo")
