"""The tool list: the 15 names, valid JSON schemas, and parameters spelled out from the specs."""

from __future__ import annotations

import jsonschema
import pytest

NAMES = {
    "catalog_search", "catalog_show", "dataset_describe", "simulator_describe", "simulator_run",
    "sweep_start", "campaign_start", "campaign_status", "campaign_stop", "challenge_list",
    "challenge_run", "challenge_results", "model_predict", "allocation_usage", "job_status",
}  # fmt: skip


@pytest.fixture(scope="module")
def tools():
    from genesis_lab.mcp.server import tool_definitions

    return {t.name: t for t in tool_definitions()}


def test_the_fifteen_tools_have_valid_closed_schemas(tools) -> None:
    assert set(tools) == NAMES
    for name, tool in tools.items():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object", name
        assert tool.input_schema["additionalProperties"] is False, name
        assert tool.description, name


def test_simulator_parameters_come_from_the_parameter_specs(tools) -> None:
    from genesis_lab.simulators.registry import get_simulator, list_simulators

    schema = tools["simulator_run"].input_schema
    ids = [e.id for e in list_simulators()]
    assert sorted(schema["properties"]["simulator"]["enum"]) == sorted(ids)
    branches = {b["if"]["properties"]["simulator"]["const"]: b["then"] for b in schema["allOf"]}
    assert set(branches) == set(ids)
    for sid in ids:
        sim = get_simulator(sid)
        props = branches[sid]["properties"]["parameters"]["properties"]
        assert set(props) == {p.name for p in sim.parameters}
        for p in sim.parameters:
            if p.type in ("float", "int") and p.bounds is not None:
                assert (props[p.name]["minimum"], props[p.name]["maximum"]) == tuple(p.bounds)
            if p.type == "choice":
                assert props[p.name]["enum"] == list(p.choices)
        validator = jsonschema.Draft202012Validator(schema)
        good = {"simulator": sid, "parameters": sim.defaults()}
        assert not list(validator.iter_errors(good)), sid
        numeric = [p for p in sim.parameters if p.type == "float" and p.bounds]
        if numeric:
            bad = {"simulator": sid, "parameters": {numeric[0].name: _above(numeric[0].bounds[1])}}
            assert list(validator.iter_errors(bad)), sid


def test_challenge_parameters_come_from_challenge_yaml(tools) -> None:
    from genesis_lab.pipelines import list_challenges

    schema = tools["challenge_run"].input_schema
    chs = {c.id: c for c in list_challenges()}
    branches = {b["if"]["properties"]["challenge"]["const"]: b["then"] for b in schema["allOf"]}
    assert set(branches) == set(chs)
    for cid, ch in chs.items():
        props = branches[cid]["properties"]["parameters"]["properties"]
        assert set(props) == set(ch.parameters)
        for name, p in ch.parameters.items():
            if p.min is not None:
                assert props[name]["minimum"] == p.min
            if p.max is not None:
                assert props[name]["maximum"] == p.max


def test_simulator_describe_gives_the_same_parameter_schema(client, tools) -> None:
    schema = tools["simulator_run"].input_schema
    sid = "advanced-manufacturing/rosenthal-melt-pool"
    then = next(
        b["then"] for b in schema["allOf"] if b["if"]["properties"]["simulator"]["const"] == sid
    )
    described = client.call_tool("simulator_describe", {"id": sid}).structured_content
    assert described["parameters_schema"] == then["properties"]["parameters"]


def _above(hi: float) -> float:
    return hi + abs(hi) + 1.0
