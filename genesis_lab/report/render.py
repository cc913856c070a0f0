"""Render a :class:`~genesis_lab.report.collect.Report` as JSON, HTML (holoviews) or PDF.

The HTML is one self-contained file: BokehJS is inlined, nothing is fetched from a CDN. The PDF is
that HTML printed by headless chromium (no Python dependency).
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from genesis_lab.errors import GenesisError, MissingDependencyError
from genesis_lab.fileio import atomic_path, atomic_write_text
from genesis_lab.report.collect import KINDS, Report

__all__ = ["FORMATS", "render", "to_html", "to_json", "write_pdf"]

FORMATS = ("html", "pdf", "json")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def to_json(report: Report) -> str:
    """The report as indented JSON.

    >>> from genesis_lab.report.collect import collect
    >>> '"integration"' in to_json(collect("2026-01-01", "2026-12-31"))
    True
    """
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, default=str)


PLOT_OPTS: dict[str, Any] = {
    "width": 700,
    "height": 300,
    "tools": ["hover"],
    "stacked": True,
    "xrotation": 30,
    "legend_position": "right",
}
EMPTY = '<p class="empty">No records in this period.</p>'


def _plots(report: Report, *, static: bool = False) -> dict[str, Any]:
    """Holoviews objects per section (only where there is something to plot).

    Legends sit right of the axes, never over the bars. ``static`` (the PDF) drops bokeh's
    toolbar; the interactive HTML shows it only while the pointer is over a plot.
    """
    import holoviews as hv

    hv.renderer("bokeh")  # loads the bokeh backend (not hv.extension: that adds panel's JS links)
    toolbar: dict[str, Any] = {"toolbar": None} if static else {"autohide_toolbar": True}
    opts = {**PLOT_OPTS, **toolbar}
    plots: dict[str, Any] = {}
    rows = [
        (d, k, n)
        for d, kinds in report.platform.catalog_by_domain.items()
        for k, n in kinds.items()
    ]
    if rows:
        plots["catalog"] = hv.Bars(rows, ["domain", "kind"], "entries").opts(
            title="Catalog entries by domain and kind", **opts
        )
    rows = [(a["id"], k, a[k]) for a in report.integration.allocations for k in KINDS if a[k] > 0]
    if rows:
        plots["usage"] = hv.Bars(rows, ["allocation", "kind"], "core_hours").opts(
            title="Core-hours by allocation and kind of use", ylabel="core-hours", **opts
        )
    rows = [
        (cid, state, n)
        for cid, counts in report.outcomes.runs_by_challenge.items()
        for state, n in counts.items()
    ]
    if rows:
        plots["runs"] = hv.Bars(rows, ["challenge", "status"], "runs").opts(
            title="Challenge runs", **opts
        )
    rows = [
        (c["name"], state, n)
        for c in report.engagement.courses
        for state, n in (
            ("passed", c["exercises_passed"]),
            ("to do", c["exercises_total"] - c["exercises_passed"]),
        )
    ]
    if rows:
        plots["training"] = hv.Bars(rows, ["course", "exercises"], "count").opts(
            title="Training progress: exercises passed per course", **opts
        )
    return plots


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    """A table, or nothing when there are no rows (the section says when it has no records)."""
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, heading: str, summary: str, has_records: bool, *parts: str) -> str:
    """One section: heading, summary, then its tables and plots, or the empty-state line."""
    body = "\n".join(p for p in parts if p) if has_records else EMPTY
    return f'<section id="{key}"><h2>{html.escape(heading)}</h2>\n{summary}\n{body}</section>'


def _sacct(totals: dict[str, float] | None) -> str:
    if not totals:
        return ""
    rows = [[k, f"{v:.2f}"] for k, v in totals.items()]
    return "<h3>SLURM accounting (sacct)</h3>" + _table(["account", "core-hours"], rows)


def _inline_resources(resources: Any) -> str:
    """BokehJS (and extensions) as inline code only: linked files (panel's) would be fetched."""
    css = "".join(f"<style>{c}</style>" for c in resources.css_raw)
    js = "".join(f'<script type="text/javascript">{j}</script>' for j in resources.js_raw)
    return css + js


def _fig(divs: dict[str, str], key: str) -> str:
    return f'<div class="plot" id="plot-{key}">{divs[key]}</div>' if key in divs else ""


def _sections(report: Report, divs: dict[str, str]) -> list[str]:
    p, i, e, o, pa = (
        report.platform,
        report.integration,
        report.engagement,
        report.outcomes,
        report.partnerships,
    )
    kinds = ", ".join(f"{v:.2f} {k}" for k, v in i.core_hours_by_kind.items())
    source = (
        "usage ledger and sacct" if i.sacct_core_hours_by_account is not None else "usage ledger"
    )
    running = (
        f", {e.running_sessions} sessions running now" if e.running_sessions is not None else ""
    )
    return [
        _section(
            "platform",
            "1. Platform status and capabilities",
            f"<p>genesis-lab {html.escape(p.version)}; hub "
            f"{'configured' if p.hub['configured'] else 'not configured'}; "
            f"{p.catalog_total} catalog entries; {len(p.challenges)} challenges.</p>",
            True,
            _table(
                ["service", "configured"],
                [[s["name"], "yes" if s["configured"] else "no"] for s in p.services],
            ),
            _table(["marking", "entries"], [[k, v] for k, v in p.catalog_by_marking.items()]),
            _fig(divs, "catalog"),
        ),
        _section(
            "integration",
            "2. Integration: allocations and use",
            f"<p>{i.total_core_hours:.2f} core-hours in the period: {kinds}. Source: {source}.</p>",
            i.total_core_hours > 0 or bool(i.sacct_core_hours_by_account),
            _table(
                ["allocation", "scheduler", "core-hours", *KINDS, "budget", "users"],
                [
                    [
                        a["id"],
                        a["scheduler"],
                        f"{a['core_hours']:.2f}",
                        *(f"{a[k]:.2f}" for k in KINDS),
                        a["budget_core_hours"] if a["budget_core_hours"] is not None else "-",
                        a["users"],
                    ]
                    for a in i.allocations
                ],
            ),
            _sacct(i.sacct_core_hours_by_account),
            _fig(divs, "usage"),
        ),
        _section(
            "engagement",
            "3. User engagement",
            f"<p>{len(e.active_users)} active users; {e.sessions} notebook sessions by "
            f"{len(e.session_users)} users; {e.learners} learners in {len(e.courses)} courses; "
            f"{e.data_accesses} data accesses and {e.data_denials} denials in the audit log; "
            f"{e.hub_users} hub users{running}.</p>",
            bool(e.active_users or e.sessions or e.courses or e.data_accesses or e.data_denials),
            _table(
                ["course", "title", "learners", "notebooks", "exercises passed", "allocation"],
                [
                    [
                        c["name"],
                        c["title"],
                        c["learners"],
                        c["notebooks"],
                        f"{c['exercises_passed']}/{c['exercises_total']}",
                        c["allocation"] or "-",
                    ]
                    for c in e.courses
                ],
            ),
            _fig(divs, "training"),
        ),
        _section(
            "outcomes",
            "4. Research outcomes",
            f"<p>{o.challenge_runs} challenge runs; {len(o.assets_added)} datasets and models "
            "added.</p>",
            bool(o.challenge_runs or o.assets_added),
            _table(
                ["challenge", "best run", "metric", "value", "owner"],
                [
                    [c, b["run_id"], f"{b['metric']} ({b['goal']})", b["value"], b["owner"]]
                    for c, b in o.best_by_challenge.items()
                ],
            ),
            _fig(divs, "runs"),
            _table(
                ["asset", "kind", "marking", "modified", "provenance"],
                [
                    [a["id"], a["kind"], a["marking"], a["modified"], a["source"] or "-"]
                    for a in o.assets_added
                ],
            ),
        ),
        _section(
            "partnerships",
            "5. Partnerships",
            f"<p>{html.escape(pa.note)}</p>",
            bool(pa.users_by_organisation),
            _table(
                ["organisation", "users"], [[k, v] for k, v in pa.users_by_organisation.items()]
            ),
        ),
    ]


STYLE = """
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
header.title-block { border-bottom: 2px solid #1f4e79; margin-bottom: 1.5rem; }
header.title-block h1 { margin: 0 0 0.3rem; color: #1f4e79; }
header.title-block dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem;
  margin: 0.5rem 0 1rem; }
header.title-block dt { font-weight: bold; }
header.title-block dd { margin: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }
.empty { color: #777; font-style: italic; }
section { page-break-inside: avoid; }
.plot { margin: 0.5rem 0 1rem; }
@page { margin: 1.5cm; }
"""


def to_html(report: Report, *, static: bool = False) -> str:
    """The report as one HTML page with its plots rendered by an inlined BokehJS.

    ``static=True`` (what the PDF prints) draws the plots without bokeh's interactive toolbar.

    >>> from genesis_lab.report.collect import collect
    >>> "title-block" in to_html(collect("2026-01-01", "2026-12-31"), static=True)
    True
    """
    try:
        import holoviews as hv
        from bokeh.embed import components
        from bokeh.resources import INLINE
    except ImportError as exc:  # pragma: no cover - holoviews is a core dependency
        raise MissingDependencyError(f"{exc}; pip install 'genesis-lab[report]'") from exc
    plots = _plots(report, static=static)
    renderer = hv.renderer("bokeh")
    models = {k: renderer.get_plot(v).state for k, v in plots.items()}
    script, divs = components(models) if models else ("", {})
    esc = html.escape
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    notes_html = f'<section id="notes"><h2>Notes</h2><ul>{notes}</ul></section>' if notes else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Genesis Mission platform report {esc(report.start)} to {esc(report.end)}</title>
{_inline_resources(INLINE)}
<style>{STYLE}</style>
{script}
</head><body>
<header class="title-block"><h1>Genesis Mission platform: yearly report</h1>
<dl><dt>Period</dt><dd id="period">{esc(report.start)} to {esc(report.end)}</dd>
<dt>Platform</dt><dd id="platform-version">genesis-lab {esc(report.platform.version)}</dd>
<dt>Generated</dt><dd>{esc(report.generated)}</dd></dl></header>
{"".join(_sections(report, divs))}
{notes_html}
</body></html>
"""


def _chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        if path := shutil.which(name):
            return path
    raise GenesisError(
        "PDF needs chromium to print the HTML report: install it (Debian: apt-get install "
        "chromium), or use --format html and print from a browser."
    )


def write_pdf(report: Report, path: Path) -> Path:
    """Print the HTML report to ``path`` with headless chromium (atomic: temp file, rename)."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(to_html(report, static=True))
        out = Path(tmp) / "report.pdf"
        argv = [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--virtual-time-budget=10000",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        if proc.returncode != 0 or not out.is_file():
            raise GenesisError(
                f"chromium could not print the report (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp_target:
            shutil.copyfile(out, tmp_target)
    return path


def render(report: Report, fmt: str, path: Path | None = None) -> str | Path:
    """Render ``report`` as ``fmt`` (one of :data:`FORMATS`); text, or the written ``path``."""
    if fmt not in FORMATS:
        raise GenesisError(f"format={fmt!r} is not known; allowed values: {', '.join(FORMATS)}")
    if fmt == "pdf":
        if path is None:
            raise GenesisError("--format pdf needs an output file: pass -o report.pdf")
        return write_pdf(report, path)
    text = to_json(report) if fmt == "json" else to_html(report)
    if path is None:
        return text
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return path
