"""The report as a reader sees it: static figures, legends beside the bars, honest empty states,
data-source problems in one plain sentence (the raw error in the JSON and the log)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re

import pytest
import yaml

from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.report import collect, render
from genesis_lab.report.render import _plots, to_html
from genesis_lab.settings import reset_settings

T = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).timestamp()
SACCT_ERROR = "sacct: error: resolve_ctls_from_dns_srv: DNS SRV lookup failed"


@pytest.fixture
def usage(tmp_path, monkeypatch):
    """Two allocations with use in 2026, and a ``sacct`` on PATH that fails as an unset one does."""
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [
        {"id": "nuclear-2026", "scheduler": "local"}, {"id": "fusion-2026", "scheduler": "local"},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sacct = bin_dir / "sacct"
    sacct.write_text(f"#!/bin/sh\necho '{SACCT_ERROR}' >&2\nexit 1\n")
    sacct.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    reset_settings()
    for alloc, kind, hours in (("nuclear-2026", "session", 2), ("fusion-2026", "cluster", 3)):
        get_ledger().record(UsageRecord.from_times(
            allocation=alloc, user="alice", kind=kind, ref=kind, cores=2, start=T,
            end=T + hours * 3600, source="job-lifetime"))  # fmt: skip
    return collect("2026-01-01", "2026-12-31")


def _figures(report, static):
    import holoviews as hv

    renderer = hv.renderer("bokeh")
    return {k: renderer.get_plot(v).state for k, v in _plots(report, static=static).items()}


def test_pdf_figures_have_no_toolbar_and_legends_sit_beside_the_bars(usage):
    from bokeh.models import Legend

    static, interactive = _figures(usage, True), _figures(usage, False)
    assert {"catalog", "usage"} <= set(static)
    for key, fig in static.items():
        assert fig.toolbar_location is None, key
        legends = [r for r in fig.renderers + fig.center if isinstance(r, Legend)]
        beside = [r for r in fig.right if isinstance(r, Legend)]
        assert legends == [] and len(beside) == 1, key  # in the side panel, off the plot frame
    for key, fig in interactive.items():
        assert fig.toolbar_location is not None and fig.toolbar.autohide, key


def _sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, flags=re.S))


def test_empty_state_only_in_sections_without_records(usage):
    data = usage.to_dict()
    expected_empty = {
        "platform": data["platform"]["catalog_total"] == 0,
        "integration": data["integration"]["total_core_hours"] == 0,
        "engagement": not data["engagement"]["active_users"],
        "outcomes": data["outcomes"]["challenge_runs"] == 0
        and not data["outcomes"]["assets_added"],
        "partnerships": not data["partnerships"]["users_by_organisation"],
    }
    assert expected_empty["engagement"] is False and expected_empty["outcomes"] is True
    sections = _sections(to_html(usage, static=True))
    for key, empty in expected_empty.items():
        assert sections[key].count("No records in this period.") == int(empty), key
    assert "<table" in sections["integration"] and "plot-usage" in sections["integration"]


def test_a_failing_sacct_is_one_plain_sentence_and_the_error_is_kept(usage, caplog):
    assert usage.notes == [
        "SLURM accounting (sacct) was not reachable; core-hours come from the site ledger."
    ]
    page = to_html(usage, static=True)
    notes = _sections(page)["notes"]
    assert usage.notes[0] in notes and "DNS SRV" not in page and "exit code" not in page
    problems = json.loads(render(usage, "json"))["source_problems"]
    assert [p["source"] for p in problems] == ["sacct"] and SACCT_ERROR in problems[0]["detail"]
    with caplog.at_level(logging.WARNING, logger="genesis_lab.report.collect"):
        collect("2026-01-01", "2026-12-31")
    assert any(SACCT_ERROR in r.getMessage() for r in caplog.records)


def test_title_block_names_the_period_the_platform_and_its_version(usage):
    import genesis_lab

    page = to_html(usage, static=True)
    block = re.search(r'<header class="title-block">(.*?)</header>', page, flags=re.S).group(1)
    assert "2026-01-01 to 2026-12-31" in block
    assert f"genesis-lab {genesis_lab.__version__}" in block and "Genesis Mission" in block
