"""Notebook views of pipeline runs: a stored run and a runner result show status and figures."""

from __future__ import annotations

import html
import re

from genesis_lab.pipelines.runner import RunResult
from genesis_lab.pipelines.store import RunRecord


def _cells(page: str) -> dict[str, str]:
    rows = re.findall(r"<tr><th[^>]*>(.*?)</th><td>(.*?)</td></tr>", page)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


def _record(tmp_path, **status):
    base = {"challenge": "reactor-period", "status": "completed", "start": "t0", "end": "t1",
            "parameters": {"rho_pcm": 150.0, "label": "<b>x</b>"},
            "metrics": {"period_s": 18.123456789}, "error": None}  # fmt: skip
    return RunRecord(tmp_path / "20261204T000000.000000Z-abc", {**base, **status})


def test_run_result_view_shows_status_metrics_parameters_and_cache(tmp_path):
    record = _record(tmp_path)
    cells = _cells(RunResult(record, cached=True)._repr_html_())
    assert cells["status"] == "completed" and cells["from the cache"] == "yes"
    assert cells["metric period_s"] == "18.1235"  # 6 significant figures
    assert cells["parameter rho_pcm"] == "150" and cells["parameter label"] == "<b>x</b>"
    assert cells["folder"] == str(record.path)
    assert "<b>x</b>" not in record._repr_html_()  # a parameter value is text, not markup
    assert "from the cache" not in _cells(record._repr_html_())


def test_failed_run_view_names_the_cell_and_error(tmp_path):
    err = {"cell": 4, "ename": "ValueError", "evalue": "rho too large"}
    cells = _cells(_record(tmp_path, status="failed", metrics={}, error=err)._repr_html_())
    assert cells["status"] == "failed"
    assert cells["error"] == "cell 4: ValueError: rho too large"
