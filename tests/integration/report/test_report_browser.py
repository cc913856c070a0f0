"""The HTML report in a real chromium: every section, plots drawn by the inlined BokehJS, offline."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fixtures.browser import screenshot
from realparts import require

from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.report import collect
from genesis_lab.report.render import to_html
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
def test_report_opens_with_sections_and_rendered_plots(page, report_html, tmp_path):
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
    assert page.locator(".bk-Toolbar").count() > 0  # inside bokeh's open shadow roots
    _check_printed(page, tmp_path)


@pytest.mark.slow
def test_report_as_pdf_through_chromium(tmp_path, report_html):
    require(os.path.exists("/usr/bin/chromium"), "Debian chromium", "apt-get install chromium")
    out = tmp_path / "report.pdf"
    subprocess.run([GL, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "pdf",
                    "-o", str(out)], check=True, timeout=300)  # fmt: skip
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000


def _check_printed(page, tmp_path):
    """What the PDF prints: no toolbars, empty-state lines only in empty sections, plain notes."""
    report = collect("2026-01-01", "2026-12-31")
    printed = tmp_path / "printed.html"
    printed.write_text(to_html(report, static=True))
    page.goto(printed.as_uri())
    page.locator("#plot-usage canvas").first.wait_for(state="attached", timeout=30_000)
    assert page.locator(".bk-Toolbar").count() == 0
    screenshot(page, "report-printed-html")
    data = report.to_dict()
    has_records = {
        "integration": data["integration"]["total_core_hours"] > 0,
        "engagement": bool(data["engagement"]["active_users"]),
        "outcomes": bool(data["outcomes"]["challenge_runs"] or data["outcomes"]["assets_added"]),
        "partnerships": bool(data["partnerships"]["users_by_organisation"]),
    }
    assert has_records["integration"] and has_records["engagement"]
    for key, records in has_records.items():
        text = page.locator(f"section#{key}").inner_text()
        assert ("No records in this period." in text) is not records, (key, text)
    block = page.locator("header.title-block").inner_text()
    assert "2026-01-01 to 2026-12-31" in block and data["platform"]["version"] in block
    if report.notes:
        notes = page.locator("section#notes li").all_inner_texts()
        assert notes == report.notes
        assert all("exit code" not in n and "error" not in n.lower() for n in notes), notes
