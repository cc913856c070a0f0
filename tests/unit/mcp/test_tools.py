"""Tool behaviour through the mcp package's in-memory client: each tool answers what the SDK
call it wraps answers, computed here independently."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import connect

MELT = "advanced-manufacturing/rosenthal-melt-pool"
DATASET = "nuclear-energy/neutron-scattering-lengths"


def test_catalog_search_and_show_are_the_sdk_answers(client) -> None:
    import genesis_lab as gl

    hits = gl.search("neutron")
    got = client.call_tool("catalog_search", {"text": "neutron", "limit": 2}).structured_content
    assert got["total"] == len(hits)
    assert [e["id"] for e in got["entries"]] == [e.id for e in hits[:2]]
    shown = client.call_tool("catalog_show", {"id": DATASET}).structured_content
    entry = gl.catalog().catalog.get(DATASET)
    assert shown["title"] == entry.title and shown["accessLevel"] == entry.access_level
    assert shown == entry.model_dump(mode="json", by_alias=True, exclude_none=True) | {
        "accessLevel": entry.access_level,
        "uri": f"genesis://entry/{DATASET}",
    }


def test_entries_are_resources_with_the_catalog_show_answer(client) -> None:
    templates = client.list_resource_templates().resource_templates
    assert [t.uri_template for t in templates] == ["genesis://entry/{id}"]
    read = client.read_resource(f"genesis://entry/{DATASET}")
    shown = client.call_tool("catalog_show", {"id": DATASET}).structured_content
    assert json.loads(read.contents[0].text) == shown
    listed = {str(r.uri) for r in client.list_resources().resources}
    assert f"genesis://entry/{DATASET}" in listed


def test_dataset_describe_statistics_of_a_selection(client) -> None:
    import genesis_lab as gl

    ds = gl.open_dataset(DATASET)
    var = "coherent"
    got = client.call_tool(
        "dataset_describe",
        {
            "id": DATASET,
            "variables": [var],
            "selection": {"nuclide": {"start": None, "stop": None}},
        },
    ).structured_content
    values = np.asarray(ds[var].values, dtype=float)
    values = values[np.isfinite(values)]
    stats = got["variables"][var]["stats"]
    assert stats["count"] == values.size
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["max"] == pytest.approx(values.max())
    assert got["variables"][var]["units"] == ds[var].attrs["units"]
    assert got["dims"] == {"nuclide": ds.sizes["nuclide"]}
    assert got["attrs"]["source"] == ds.attrs["source"] if "source" in ds.attrs else True


def test_dataset_describe_never_returns_more_value_bytes_than_the_setting(
    tmp_path, monkeypatch, context
) -> None:
    from genesis_lab.mcp.server import build_server
    from genesis_lab.settings import reset_settings

    site = tmp_path / "site.yaml"
    site.write_text("mcp:\n  max_value_bytes: 100\n")
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    with connect(build_server(context)) as c:
        got = c.call_tool("dataset_describe", {"id": DATASET}).structured_content
    assert got["max_value_bytes"] == 100
    assert 0 < len(json.dumps(got["values"]).encode()) <= 100
    assert got["values_bytes"] == len(json.dumps(got["values"]).encode())


def test_simulator_run_is_the_simulator_and_charges_the_gate(client, context) -> None:
    from genesis_lab.simulators.registry import get_simulator

    before = context.gate.used_today()
    got = client.call_tool(
        "simulator_run", {"simulator": MELT, "parameters": {"power": 250.0}, "seed": 3}
    ).structured_content
    ds = get_simulator(MELT).run({"power": 250.0}, seed=3)
    assert got["outputs"]["melt_pool_width"]["value"] == pytest.approx(float(ds["melt_pool_width"]))
    assert context.gate.used_today() > before


def test_model_predict_is_the_model(client) -> None:
    import genesis_lab as gl

    mid = "advanced-manufacturing/melt-pool-width-gp"
    model = gl.load_model(mid)
    feats = [f["name"] for f in model.card.features]
    X = {
        f: [0.5 * (c["min"] + c["max"])] * 2
        for f, c in zip(feats, model.card.features, strict=True)
    }
    got = client.call_tool("model_predict", {"model": mid, "inputs": X}).structured_content
    assert got["prediction"] == pytest.approx(np.asarray(model.predict(X)).tolist())
    bad = client.call_tool("model_predict", {"model": mid, "inputs": {"nope": [1.0]}})
    assert bad.is_error and "inputs." in bad.content[0].text


def test_challenge_list_and_results(client) -> None:
    from genesis_lab.pipelines import list_challenges

    got = client.call_tool("challenge_list", {}).structured_content
    assert [c["id"] for c in got["challenges"]] == [c.id for c in list_challenges()]
    res = client.call_tool("challenge_results", {"challenge": "reactor-period"}).structured_content
    assert res == {"challenge": "reactor-period", "total": 0, "runs": []}


def test_allocation_usage_reads_the_ledger(tmp_path, monkeypatch, context) -> None:
    from genesis_lab.compute import get_ledger
    from genesis_lab.compute.ledger import UsageRecord
    from genesis_lab.mcp.server import build_server
    from genesis_lab.settings import reset_settings

    site = tmp_path / "site.yaml"
    site.write_text(
        "allocations:\n  - {id: local, scheduler: local, budget_core_hours: 10}\n"
        "  - {id: other, scheduler: local, members: [bob]}\n"
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    get_ledger().record(
        UsageRecord.from_times(allocation="local", user="ada", kind="session", ref="t", cores=2,
                               start=0.0, end=3600.0, source="session-lifetime")
    )  # fmt: skip
    with connect(build_server(context)) as client:
        got = client.call_tool("allocation_usage", {}).structured_content
        bad = client.call_tool("allocation_usage", {"allocation": "other"})
    assert [r["allocation"] for r in got["allocations"]] == ["local"]
    row = got["allocations"][0]
    assert row["used_by_me_core_hours"] == pytest.approx(2.0)
    assert row["left_core_hours"] == pytest.approx(8.0)
    assert bad.is_error and "'allocation'" in bad.content[0].text and "local" in bad.content[0].text
