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


def _plots(report: Report) -> dict[str, Any]:
    """Holoviews objects per section (only where there is something to plot)."""
    import holoviews as hv

    hv.renderer("bokeh")  # loads the bokeh backend (not hv.extension: that adds panel's JS links)
    opts = {"width": 640, "height": 300, "tools": ["hover"], "stacked": True, "xrotation": 30}
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
            title="Core-hours by allocation: notebook sessions, dask clusters, pipelines",
            ylabel="core-hours",
            **opts,
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
    if not rows:
        return '<p class="empty">No records in this period.</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sacct(totals: dict[str, float] | None) -> str:
    if totals is None:
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


def to_html(report: Report) -> str:
    """The report as one HTML page with its plots rendered by an inlined BokehJS."""
    try:
        import holoviews as hv
        from bokeh.embed import components
        from bokeh.resources import INLINE
    except ImportError as exc:  # pragma: no cover - holoviews is a core dependency
        raise MissingDependencyError(f"{exc}; pip install 'genesis-lab[report]'") from exc
    plots = _plots(report)
    renderer = hv.renderer("bokeh")
    models = {k: renderer.get_plot(v).state for k, v in plots.items()}
    script, divs = components(models) if models else ("", {})
    p, i, e, o, pa = (
        report.platform,
        report.integration,
        report.engagement,
        report.outcomes,
        report.partnerships,
    )
    esc = html.escape
    sections = [
        f"""<section id="platform"><h2>1. Platform status and capabilities</h2>
<p>genesis-lab {esc(p.version)}; hub {"configured" if p.hub["configured"] else "not configured"};
{p.catalog_total} catalog entries; {len(p.challenges)} challenges.</p>
{_table(["service", "configured"], [[s["name"], "yes" if s["configured"] else "no"] for s in p.services])}
{_table(["marking", "entries"], [[k, v] for k, v in p.catalog_by_marking.items()])}
{_fig(divs, "catalog")}</section>""",
        f"""<section id="integration"><h2>2. Integration: allocations and use</h2>
<p>{i.total_core_hours:.2f} core-hours in the period: {
            ", ".join(f"{v:.2f} {k}" for k, v in i.core_hours_by_kind.items())
        }. Source: usage ledger{
            " and sacct" if i.sacct_core_hours_by_account is not None else " (sacct did not answer)"
        }.</p>
{
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
            )
        }
{_sacct(i.sacct_core_hours_by_account)}
{_fig(divs, "usage")}</section>""",
        f"""<section id="engagement"><h2>3. User engagement</h2>
<p>{len(e.active_users)} active users; {e.sessions} notebook sessions by
{len(e.session_users)} users; {e.learners} learners in {len(e.courses)} courses;
{e.data_accesses} data accesses and {e.data_denials} denials in the audit log;
{e.hub_users} hub users{
            f", {e.running_sessions} sessions running now" if e.running_sessions is not None else ""
        }.</p>
{
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
            )
        }
{_fig(divs, "training")}</section>""",
        f"""<section id="outcomes"><h2>4. Research outcomes</h2>
<p>{o.challenge_runs} challenge runs; {len(o.assets_added)} datasets and models added.</p>
{
            _table(
                ["challenge", "best run", "metric", "value", "owner"],
                [
                    [c, b["run_id"], f"{b['metric']} ({b['goal']})", b["value"], b["owner"]]
                    for c, b in o.best_by_challenge.items()
                ],
            )
        }
{_fig(divs, "runs")}
{
            _table(
                ["asset", "kind", "marking", "modified", "provenance"],
                [
                    [a["id"], a["kind"], a["marking"], a["modified"], a["source"] or "-"]
                    for a in o.assets_added
                ],
            )
        }</section>""",
        f"""<section id="partnerships"><h2>5. Partnerships</h2><p>{esc(pa.note)}</p>
{_table(["organisation", "users"], [[k, v] for k, v in pa.users_by_organisation.items()])}
</section>""",
    ]
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>genesis-lab report {esc(report.start)} to {esc(report.end)}</title>
{_inline_resources(INLINE)}
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }}
.empty {{ color: #777; font-style: italic; }}
section {{ page-break-inside: avoid; }}
</style>
{script}
</head><body>
<h1>genesis-lab yearly report</h1>
<p>Period {esc(report.start)} to {esc(report.end)}; generated {esc(report.generated)}.</p>
{"".join(sections)}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
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
        page.write_text(to_html(report))
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
