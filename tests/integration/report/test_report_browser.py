"""The HTML report in a real chromium: every section, plots drawn by the inlined BokehJS, offline."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from realparts import require

from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.settings import reset_settings

GL = str(Path(sys.executable).parent / "genesis-lab")
SECTIONS = ["Platform status", "Integration", "User engagement", "Research outcomes",
            "Partnerships"]  # fmt: skip


@pytest.fixture
def report_html(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [{"id": "nuclear-2026", "scheduler": "local"}]}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    t = dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp()
    for kind, hours in (("session", 2.0), ("cluster", 5.0), ("pipeline", 1.0)):
        get_ledger().record(UsageRecord.from_times(
            allocation="nuclear-2026", user="alice", kind=kind, ref=kind, cores=2, start=t,
            end=t + hours * 3600, source="job-lifetime"))  # fmt: skip
    out = tmp_path / "report.html"
    subprocess.run([GL, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format",
                    "html", "-o", str(out)], check=True)  # fmt: skip
    return out


@pytest.mark.browser
def test_report_opens_with_sections_and_rendered_plots(page, report_html):
    failed, remote, errors = [], [], []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith("file:") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report_html.as_uri())
    headings = page.locator("h2").all_inner_texts()
    for name in SECTIONS:
        assert any(name in h for h in headings), (name, headings)
    # bokeh draws into a canvas inside its root (open shadow DOM; playwright pierces it)
    for plot in ("catalog", "usage"):
        page.locator(f"#plot-{plot} canvas").first.wait_for(state="attached", timeout=30_000)
    box = page.locator("#plot-usage canvas").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    assert "16.00 core-hours in the period" in page.locator("#integration").inner_text()
    assert failed == [] and remote == [] and errors == []


@pytest.mark.slow
def test_report_as_pdf_through_chromium(tmp_path, report_html):
    require(os.path.exists("/usr/bin/chromium"), "Debian chromium", "apt-get install chromium")
    out = tmp_path / "report.pdf"
    subprocess.run([GL, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "pdf",
                    "-o", str(out)], check=True, timeout=300)  # fmt: skip
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
