"""Gather the yearly report's records into one typed structure, from the platform's own stores.

Sources: catalog, usage ledger (and ``sacct`` where installed), pipeline results store, audit log,
courses, and the hub database (users, vetting) when the hub of these settings has one. A source that
fails becomes a :class:`SourceProblem`: one plain sentence for the reader (``Report.notes``), the
raw error in the JSON (``Report.source_problems``) and in the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.errors import GenesisError

__all__ = ["Report", "SourceProblem", "collect", "parse_date"]

KINDS = ("session", "cluster", "pipeline")
SACCT_UNREACHABLE = (
    "SLURM accounting (sacct) was not reachable; core-hours come from the site ledger."
)
SACCT_ABSENT = (
    "SLURM accounting (sacct) is not installed here; core-hours come from the site ledger."
)

log = logging.getLogger(__name__)


@dataclass
class SourceProblem:
    """A data source the report could not read: a sentence for readers, the error for operators."""

    source: str
    summary: str
    detail: str = ""


def _problem(problems: list[SourceProblem], source: str, summary: str, exc: object = None) -> None:
    detail = str(exc) if exc is not None else ""
    if detail:
        log.warning("report: %s: %s", source, detail)
    problems.append(SourceProblem(source, summary, detail))


@dataclass
class Platform:
    version: str
    hub: dict[str, Any]
    services: list[dict[str, Any]]
    catalog_total: int
    catalog_by_domain: dict[str, dict[str, int]]
    catalog_by_marking: dict[str, int]
    challenges: list[str]


@dataclass
class Integration:
    sacct_available: bool
    sacct_core_hours_by_account: dict[str, float] | None
    total_core_hours: float
    core_hours_by_kind: dict[str, float]
    allocations: list[dict[str, Any]]
    top_charges: list[dict[str, Any]]


@dataclass
class Engagement:
    active_users: list[str]
    sessions: int
    session_users: list[str]
    courses: list[dict[str, Any]]
    learners: int
    data_accesses: int
    data_denials: int
    hub_users: int
    running_sessions: int | None


@dataclass
class Outcomes:
    challenge_runs: int
    runs_by_challenge: dict[str, dict[str, int]]
    best_by_challenge: dict[str, dict[str, Any]]
    assets_added: list[dict[str, Any]]


@dataclass
class Partnerships:
    recorded: bool
    users_by_organisation: dict[str, int]
    note: str


@dataclass
class Report:
    """The yearly report: five sections over the period ``[start, end]`` (dates, inclusive)."""

    start: str
    end: str
    generated: str
    platform: Platform
    integration: Integration
    engagement: Engagement
    outcomes: Outcomes
    partnerships: Partnerships
    notes: list[str] = field(default_factory=list)
    source_problems: list[SourceProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole report."""
        return asdict(self)


def parse_date(text: str, name: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` date; :class:`GenesisError` names the field otherwise.

    >>> parse_date("2026-01-31")
    datetime.date(2026, 1, 31)
    """
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise GenesisError(
            f"{name}={text!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-01"
        ) from None


class _Period:
    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.lo = dt.datetime.combine(start, dt.time.min, dt.UTC)
        self.hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, dt.UTC)

    def has(self, when: str | dt.datetime | None) -> bool:
        if when is None:
            return False
        if isinstance(when, str):
            try:
                when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError:
                return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return self.lo <= when < self.hi


def _platform(settings: Any, problems: list[SourceProblem]) -> Platform:
    import genesis_lab
    from genesis_lab.catalog import load_catalog
    from genesis_lab.pipelines.challenge import list_challenges

    catalog = load_catalog(warn=False)
    by_domain: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_marking: Counter[str] = Counter()
    for e in catalog:
        by_domain[e.domain][e.kind] += 1
        by_marking[e.marking] += 1
    try:
        challenges = [c.id for c in list_challenges(settings)]
    except GenesisError as exc:
        challenges = []
        _problem(problems, "challenges", "The challenge folders could not be listed.", exc)
    db = _hub_db(settings)
    hub = {
        "configured": bool(settings.hub_api_url or db),
        "api_url": settings.hub_api_url,
        "database": str(db) if db else None,
    }
    services = [
        {"name": "genesis service", "configured": bool(settings.service_url or settings.service)},
        {"name": "idle culler", "configured": bool(settings.hub.get("idle_timeout"))},
        {"name": "pipeline scheduler", "configured": True},
    ]
    return Platform(
        version=genesis_lab.__version__,
        hub=hub,
        services=services,
        catalog_total=len(catalog),
        catalog_by_domain={d: dict(k) for d, k in sorted(by_domain.items())},
        catalog_by_marking=dict(sorted(by_marking.items())),
        challenges=challenges,
    )


def _integration(settings: Any, period: _Period) -> tuple[Integration, list[Any]]:
    from genesis_lab.compute.allocations import get_allocations
    from genesis_lab.compute.ledger import get_ledger

    records = [r for r in get_ledger().records() if period.has(r.start)]
    by_kind = dict.fromkeys(KINDS, 0.0)
    per_alloc: dict[str, dict[str, Any]] = {}
    known = get_allocations()
    for alloc_id in known:
        per_alloc[alloc_id] = {"id": alloc_id, "core_hours": 0.0, **dict.fromkeys(KINDS, 0.0)}
    for r in records:
        by_kind[r.kind] = by_kind.get(r.kind, 0.0) + r.core_hours
        row = per_alloc.setdefault(
            r.allocation, {"id": r.allocation, "core_hours": 0.0, **dict.fromkeys(KINDS, 0.0)}
        )
        row["core_hours"] += r.core_hours
        row[r.kind] = row.get(r.kind, 0.0) + r.core_hours
    for row in per_alloc.values():
        a = known.get(row["id"])
        row["scheduler"] = a.scheduler if a else "unknown (not in the site file)"
        row["budget_core_hours"] = a.budget_core_hours if a else None
        row["users"] = len({r.user for r in records if r.allocation == row["id"]})
        for k in ("core_hours", *KINDS):
            row[k] = round(row[k], 6)
    top = sorted(records, key=lambda r: -r.core_hours)[:20]
    integ = Integration(
        sacct_available=shutil.which("sacct") is not None,
        sacct_core_hours_by_account=None,
        total_core_hours=round(sum(r.core_hours for r in records), 6),
        core_hours_by_kind={k: round(v, 6) for k, v in by_kind.items()},
        allocations=sorted(per_alloc.values(), key=lambda r: r["id"]),
        top_charges=[
            {
                k: getattr(r, k)
                for k in ("allocation", "user", "kind", "ref", "core_hours", "source")
            }
            for r in top
        ],
    )
    return integ, records


def _sacct_totals(
    start: dt.date, end: dt.date, problems: list[SourceProblem]
) -> dict[str, float] | None:
    """Core-hours per account that SLURM accounting recorded in the period (None if it cannot)."""
    from genesis_lab.compute.commands import run_command
    from genesis_lab.errors import SchedulerError

    argv = ["sacct", "-a", "-X", "-n", "-P", "-S", start.isoformat(), "-E",
            (end + dt.timedelta(days=1)).isoformat(), "--format=Account,CPUTimeRAW"]  # fmt: skip
    try:
        out = run_command(argv, timeout=60).stdout
    except SchedulerError as exc:
        _problem(problems, "sacct", SACCT_UNREACHABLE, exc)
        return None
    totals: dict[str, float] = defaultdict(float)
    for line in out.splitlines():
        account, _, seconds = line.partition("|")
        if seconds.strip().isdigit():
            totals[account or "(none)"] += int(seconds) / 3600.0
    return {k: round(v, 6) for k, v in sorted(totals.items())}


def _hub_db(settings: Any) -> Path | None:
    url = settings.hub.get("db_url") or ""
    if url and not url.startswith("sqlite:///"):
        return None  # PostgreSQL hubs: use the REST API (not read here)
    path = (
        Path(url.removeprefix("sqlite:///"))
        if url
        else settings.state_dir / "hub" / "jupyterhub.sqlite"
    )
    return path if path.is_file() else None


def _hub_users(settings: Any) -> list[dict[str, Any]]:
    path = _hub_db(settings)
    if path is None:
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        users = {
            name: {"name": name, "created": created, "last_activity": last}
            for name, created, last in con.execute("SELECT name, created, last_activity FROM users")
        }
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "users_info" in tables:
            for name, authorized, email in con.execute(
                "SELECT username, is_authorized, email FROM users_info"
            ):
                if name in users:
                    users[name] |= {"vetted": bool(authorized), "email": email}
    finally:
        con.close()
    return list(users.values())


def _hub_rest_users(settings: Any, problems: list[SourceProblem]) -> list[dict[str, Any]] | None:
    """Users (with their running servers) from the hub REST API; None without a hub to ask."""
    import json
    import urllib.error
    import urllib.request

    if not (settings.hub_api_url and settings.hub_api_token):
        return None
    req = urllib.request.Request(settings.hub_api_url.rstrip("/") + "/users")
    req.add_header("Authorization", f"token {settings.hub_api_token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read().decode())
    except (OSError, ValueError) as exc:
        _problem(
            problems,
            "hub",
            "The hub did not list its users; user counts come from its database.",
            exc,
        )
        return None


def _courses() -> list[dict[str, Any]]:
    from genesis_lab.training.courses import list_courses, progress

    out = []
    for c in list_courses():
        try:
            rows = progress(c.name)
        except GenesisError:
            rows = []
        passed = sum(r["status"] == "pass" for r in rows)
        out.append(
            {
                "name": c.name,
                "title": c.title,
                "learners": len(c.learners),
                "notebooks": len(c.notebooks),
                "exercises_total": len(rows),
                "exercises_passed": passed,
                "allocation": c.allocation,
                "active_learners": sorted(
                    {r["learner"] for r in rows if r["status"] != "not attempted"}
                ),
            }
        )
    return out


def _outcomes(settings: Any, period: _Period) -> tuple[Outcomes, list[Any]]:
    from genesis_lab.catalog import load_catalog
    from genesis_lab.pipelines.challenge import get_challenge
    from genesis_lab.pipelines.store import ResultsStore

    store = ResultsStore(settings.results_root)
    runs = []
    root = Path(settings.results_root)
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                runs += [r for r in store.runs(folder.name) if period.has(r.status.get("start"))]
    by_challenge: dict[str, dict[str, int]] = defaultdict(lambda: {"completed": 0, "failed": 0})
    for r in runs:
        by_challenge[r.challenge][r.state] = by_challenge[r.challenge].get(r.state, 0) + 1
    best: dict[str, dict[str, Any]] = {}
    for cid in by_challenge:
        try:
            metric = get_challenge(cid, settings).primary
            name, goal = metric.name, metric.goal
        except GenesisError:
            continue  # a challenge removed since: its runs are counted, not ranked
        scored = [
            r
            for r in runs
            if r.challenge == cid
            and r.state == "completed"
            and isinstance(r.metrics.get(name), int | float)
        ]
        if not scored or goal == "none":
            continue
        pick = max if goal == "maximize" else min
        top = pick(scored, key=lambda r: r.metrics[name])
        best[cid] = {
            "run_id": top.run_id,
            "metric": name,
            "goal": goal,
            "value": top.metrics[name],
            "owner": top.status.get("owner"),
            "parameters": top.parameters,
        }
    added = []
    for e in load_catalog(warn=False):
        if (
            e.kind in ("dataset", "model")
            and e.source_file
            and period.has(dt.datetime.combine(e.modified, dt.time.min, dt.UTC))
        ):
            prov = e.provenance
            added.append(
                {
                    "id": e.id,
                    "kind": e.kind,
                    "marking": e.marking,
                    "modified": e.modified.isoformat(),
                    "source": prov.source if prov else None,
                    "version": prov.version if prov else None,
                    "derived_from": list(prov.derived_from) if prov else [],
                }
            )
    return (
        Outcomes(
            challenge_runs=len(runs),
            runs_by_challenge={k: dict(v) for k, v in sorted(by_challenge.items())},
            best_by_challenge=best,
            assets_added=added,
        ),
        runs,
    )


def collect(start: dt.date | str, end: dt.date | str, settings: Any = None) -> Report:
    """Gather the report for ``start``..``end`` (inclusive) from this site's records.

    >>> r = collect("2026-01-01", "2026-12-31")
    >>> sorted(r.to_dict())[:3]
    ['end', 'engagement', 'generated']
    """
    from genesis_lab.access.audit import query
    from genesis_lab.settings import get_settings

    settings = settings or get_settings()
    start = parse_date(start, "from") if isinstance(start, str) else start
    end = parse_date(end, "to") if isinstance(end, str) else end
    if end < start:
        raise GenesisError(f"to={end} is before from={start}; give a period that runs forward")
    period = _Period(start, end)
    problems: list[SourceProblem] = []
    platform = _platform(settings, problems)
    integration, usage = _integration(settings, period)
    if not integration.sacct_available:
        _problem(problems, "sacct", SACCT_ABSENT)
    else:
        integration.sacct_core_hours_by_account = _sacct_totals(start, end, problems)
    outcomes, runs = _outcomes(settings, period)
    audit = [r for r in query() if period.has(r.get("time"))]
    hub_users = _hub_users(settings)
    rest_users = _hub_rest_users(settings, problems)
    if rest_users is not None:
        known = {u["name"]: u for u in hub_users}
        for u in rest_users:
            known.setdefault(u["name"], {"name": u["name"]})["last_activity"] = u.get(
                "last_activity"
            )
        hub_users = list(known.values())
    courses = _courses()
    sessions = [r for r in usage if r.kind == "session"]
    active = (
        {r.user for r in usage}
        | {r.get("identity") for r in audit if r.get("identity")}
        | {r.status.get("owner") for r in runs if r.status.get("owner")}
        | {u["name"] for u in hub_users if period.has(u.get("last_activity"))}
        | {name for c in courses for name in c["active_learners"]}
    )
    engagement = Engagement(
        active_users=sorted(active),
        sessions=len(sessions),
        session_users=sorted({r.user for r in sessions}),
        courses=courses,
        learners=len({n for c in courses for n in c["active_learners"]})
        or sum(c["learners"] for c in courses),
        data_accesses=sum(r.get("outcome") == "success" for r in audit),
        data_denials=sum(r.get("outcome") == "denied" for r in audit),
        hub_users=len(hub_users),
        running_sessions=None
        if rest_users is None
        else sum(len(u.get("servers") or {}) for u in rest_users),
    )
    orgs: Counter[str] = Counter()
    for u in hub_users:
        email = u.get("email") or ""
        if "@" in email:
            orgs[email.rsplit("@", 1)[1].lower()] += 1
    partnerships = Partnerships(
        recorded=bool(orgs),
        users_by_organisation=dict(sorted(orgs.items())),
        note=(
            "Organisation = the e-mail domain recorded at sign-up (hub vetting)."
            if orgs
            else "The hub's vetting records no organisation (no e-mail at sign-up) for these users."
        ),
    )
    return Report(
        start=start.isoformat(),
        end=end.isoformat(),
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        platform=platform,
        integration=integration,
        engagement=engagement,
        outcomes=outcomes,
        partnerships=partnerships,
        notes=list(dict.fromkeys(p.summary for p in problems)),
        source_problems=problems,
    )
