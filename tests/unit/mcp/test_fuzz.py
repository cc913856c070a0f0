"""Bad input through MCP: arguments drawn from each tool's own input schema (hypothesis), plus
wrong types and unknown fields; over 2,000 calls, no crash, and every error names the field."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import connect

EXAMPLES_PER_TOOL = 160  # tools with few distinct inputs stop early
JUNK = [None, True, -1, 2.5, "", "x" * 300, [], [1, "a"], {}, {"k": [None]}]

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=False, width=32), st.text(max_size=12))  # fmt: skip
_json = st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                     st.dictionaries(st.text(max_size=6), c, max_size=3)),
                     max_leaves=6)  # fmt: skip


def from_schema(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy:
    """Values for a JSON schema, mostly valid, sometimes off (the bounds, a junk value)."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].split("/")[-1]], defs, depth)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs, depth) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= 200)
        return st.text(max_size=min(schema.get("maxLength", 40), 40))
    if kind == "integer":
        lo, hi = schema.get("minimum", -(10**6)), schema.get("maximum", 10**6)
        return st.integers(int(lo) - 2, int(min(hi, 10**9)) + 2)
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False,
                         allow_infinity=False) | st.floats(allow_nan=False, width=32)  # fmt: skip
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        item = from_schema(schema.get("items", {}), defs, depth + 1) if depth < 3 else _scalars
        return st.lists(item, max_size=4)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        extra = schema.get("additionalProperties")
        base = st.fixed_dictionaries(
            {k: from_schema(v, defs, depth + 1) for k, v in props.items() if k in required},
            optional={k: from_schema(v, defs, depth + 1) for k, v in props.items()
                      if k not in required},
        )  # fmt: skip
        if isinstance(extra, dict) and depth < 3:
            more = st.dictionaries(st.text(min_size=1, max_size=12),
                                   from_schema(extra, defs, depth + 1), max_size=3)  # fmt: skip
            return st.tuples(base, more).map(lambda t: {**t[1], **t[0]})
        return base
    return _json


def _field_is_named(tool: Any, args: Any, result: Any) -> None:
    assert not any(w in result.content[0].text for w in ("Traceback", "failed inside the server")), (
        tool.name, args, result.content[0].text)  # fmt: skip
    error = result.structured_content["error"]
    field = error["field"]
    assert field and f"argument {field!r}" in result.content[0].text
    root = re.split(r"[.]", field)[0]
    known = set(tool.input_schema["properties"]) | {"arguments"}
    if isinstance(args, dict):
        known |= set(args)
    assert root in known, (tool.name, args, field)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from genesis_lab.compute.allocations import AgentLimits
    from genesis_lab.mcp.context import AgentContext
    from genesis_lab.mcp.gate import Gate
    from genesis_lab.mcp.server import build_server, tool_definitions

    fast = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else tmp_path_factory.mktemp("f")
    state = Path(tempfile.mkdtemp(dir=fast, prefix="gl-mcp-fuzz-"))
    gate = Gate(AgentLimits(core_hours_per_call=0, core_hours_per_day=0), state / "agents")
    ctx = AgentContext("fuzz", "local", gate=gate, state_dir=state)
    tools = {t.name: t for t in tool_definitions()}
    calls = []
    with connect(build_server(ctx)) as client:
        yield client, tools, calls
    gate.close()
    import shutil

    shutil.rmtree(state, ignore_errors=True)


def _check(client, tools, calls, name, args) -> None:
    result = client.call_tool(name, args)
    calls.append(name)
    if result.is_error:
        _field_is_named(tools[name], args, result)


TOOLS = sorted(
    ["catalog_search", "catalog_show", "dataset_describe", "simulator_describe", "simulator_run",
     "sweep_start", "campaign_start", "campaign_status", "campaign_stop", "challenge_list",
     "challenge_run", "challenge_results", "model_predict", "allocation_usage", "job_status"])  # fmt: skip


def _fuzz_tool(client, tools, calls, name) -> None:
    schema = tools[name].input_schema

    @settings(max_examples=EXAMPLES_PER_TOOL, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(args=from_schema(schema, schema.get("$defs", {})))
    def run(args: dict[str, Any]) -> None:
        _check(client, tools, calls, name, args)

    run()
    for prop in schema["properties"]:
        for junk in JUNK:
            _check(client, tools, calls, name, {prop: junk})
    _check(client, tools, calls, name, {"not_a_field": 1})


def test_over_2000_schema_drawn_and_bad_calls_no_crash_every_error_names_the_field(
    fuzz_client,
) -> None:
    """One test (not one per tool), so the count holds however a run spreads tests on workers."""
    client, tools, calls = fuzz_client
    for name in TOOLS:
        _fuzz_tool(client, tools, calls, name)
    assert len(calls) >= 2000, len(calls)
    assert set(calls) == set(tools)
