"""Running jobs' accrued core-hours in the usage report and ``alloc usage``, against a stand-in
``squeue`` (a script on PATH answering from a job table).

Reference figures are computed here from the table: cores x (the report's as-of - start) / 3600,
each job's allocation as the accounting sync would charge it (said per job below).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml
from fixtures.squeue import Job, install_squeue
from fixtures.unix_accounts import stub_accounts

from genesis_lab.compute import running
from genesis_lab.compute.allocations import check_allocation, validate_allocations
from genesis_lab.compute.ledger import UsageRecord, get_ledger, local_usage_report, require_budget
from genesis_lab.settings import get_settings, reset_settings

NOW = int(time.time())

ALLOCATIONS = [
    {"id": "open-p1", "scheduler": "slurm", "account": "p1", "queue": "debug", "members": ["*"],
     "budget_core_hours": 1.0},
    {"id": "ada-p1", "scheduler": "slurm", "account": "p1", "queue": "debug",
     "members": ["ada"]},
    {"id": "carol-p2", "scheduler": "slurm", "account": "p2", "members": ["carol"]},
    {"id": "pbs-x", "scheduler": "pbs", "account": "px", "members": ["*"]},
    {"id": "here", "scheduler": "local", "members": ["*"]},
]  # fmt: skip

# (job, the allocation the sync would charge it to: None = not this site's / not counted)
TABLE = [
    (Job("201", "dask-worker", "ada", "p1", "debug", "RUNNING", 2, NOW - 600), "ada-p1"),
    # a cluster's worker job named for open-p1 (the guess would take ada-p1: it names her)
    (Job("202", "gl-open-p1-0a1b2c3d-s203", "ada", "p1", "debug", "RUNNING", 2, NOW - 900),
     "open-p1"),
    (Job("203", "genesis-session-ada", "ada", "p1", "debug", "RUNNING", 1, NOW - 1000,
         "genesis-allocation=open-p1"), "open-p1"),
    # bo's own Unix account is the hub's jupyter-bo; he is not a member of ada-p1
    (Job("204", "genesis-session-bo", "jupyter-bo", "p1", "debug", "RUNNING", 4, NOW - 450),
     "open-p1"),
    (Job("205", "dask-worker", "ada", "p1", "debug", "PENDING", 8, None), None),
    (Job("206", "other-site", "eve", "p9", "debug", "RUNNING", 16, NOW - 3000), None),
    (Job("207", "genesis-ch1", "carol", "p2", "batch", "RUNNING", 3, NOW - 1200), "carol-p2"),
    # already charged in the ledger (its session reported it): not counted twice
    (Job("208", "dask-worker", "ada", "p1", "debug", "RUNNING", 1, NOW - 700), None),
]  # fmt: skip


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Settings with :data:`ALLOCATIONS`, the stand-in squeue, bo's account, a charged ledger."""
    stub_accounts(monkeypatch, {"jupyter-bo": "bo"}, absent=("ada", "carol", "eve"))
    calls = install_squeue(tmp_path / "bin", monkeypatch, [j for j, _ in TABLE])
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"allocations": ALLOCATIONS}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    reset_settings()
    settings = get_settings()
    ledger = get_ledger(settings)
    for ref, alloc, user, cores, seconds in (("101", "open-p1", "ada", 1, 1800),
                                             ("102", "open-p1", "bo", 1, 900),
                                             ("208", "ada-p1", "ada", 1, 360)):  # fmt: skip
        ledger.record(UsageRecord.from_times(allocation=alloc, user=user, kind="cluster",
                      ref=ref, cores=cores, start=NOW - 5000, end=NOW - 5000 + seconds,
                      source="worker-lifetime"))  # fmt: skip
    return settings, calls


def hub_user_of(job: Job) -> str:
    return "bo" if job.user == "jupyter-bo" else job.user


def reference(as_of: str, user: str | None = None) -> dict[str, float]:
    """Accrued core-hours per allocation (of ``user``'s jobs if given), from :data:`TABLE`."""
    t = dt.datetime.fromisoformat(as_of).timestamp()
    out: dict[str, float] = {}
    for job, alloc in TABLE:
        if alloc and user in (None, hub_user_of(job)):
            out[alloc] = out.get(alloc, 0.0) + job.cores * (t - job.start) / 3600
    return out


def charged(settings, alloc: str) -> float:
    return sum(r.core_hours for r in get_ledger(settings).records(alloc))


def test_a_member_sees_running_totals_of_her_allocations_and_only_her_own_jobs(site):
    settings, calls = site
    before = time.time()
    report = local_usage_report(settings, user="ada")
    as_of = dt.datetime.fromisoformat(report["running_as_of"]).timestamp()
    assert before - 1 < as_of <= time.time()  # the figures are of now
    rows = {r["id"]: r for r in report["allocations"]}
    assert sorted(rows) == ["ada-p1", "here", "open-p1", "pbs-x"]
    total, mine = reference(report["running_as_of"]), reference(report["running_as_of"], "ada")
    for alloc in ("open-p1", "ada-p1"):
        assert rows[alloc]["running_core_hours"] == pytest.approx(total[alloc], abs=1e-6)
        assert rows[alloc]["mine_running_core_hours"] == pytest.approx(mine[alloc], abs=1e-6)
    assert total["open-p1"] > mine["open-p1"] > 0  # bo's session counts in the total only
    # charged figures and the balance are the ledger's alone
    assert rows["open-p1"]["used_core_hours"] == pytest.approx(charged(settings, "open-p1"))
    assert rows["open-p1"]["remaining_core_hours"] == pytest.approx(
        1.0 - charged(settings, "open-p1"))  # fmt: skip
    # no queue command (PBS) or no batch jobs (local): no figure; PBS says why
    assert rows["pbs-x"]["running_core_hours"] is rows["here"]["running_core_hours"] is None
    assert [n for n in report["running_notes"] if "'pbs-x'" in n]
    assert len(report["running_notes"]) == 1
    assert report["running_by_user"] == [
        {"allocation": a, "user": "ada", "core_hours": pytest.approx(h, abs=1e-6)}
        for a, h in sorted(mine.items())]  # fmt: skip
    # nothing of bo's or carol's jobs but the totals: no user, job id, name or account of theirs
    text = json.dumps(report)
    for theirs in ('"bo"', "jupyter-bo", "204", "genesis-session-bo", "carol", "207", "p2"):
        assert theirs not in text, theirs
    # the queue was asked once, for her allocations' account only, running jobs only
    [args] = [json.loads(line) for line in calls.read_text().splitlines()]
    assert args[args.index("--account") + 1] == "p1"
    assert args[args.index("--states") + 1] == "RUNNING"


def test_an_admin_sees_every_allocation_and_user(site):
    settings, _ = site
    report = local_usage_report(settings, user="root", admin=True)
    rows = {r["id"]: r for r in report["allocations"]}
    total = reference(report["running_as_of"])
    for alloc in ("open-p1", "ada-p1", "carol-p2"):
        assert rows[alloc]["running_core_hours"] == pytest.approx(total[alloc], abs=1e-6)
    t = dt.datetime.fromisoformat(report["running_as_of"]).timestamp()
    expected: dict[tuple[str, str], float] = {}
    for job, alloc in TABLE:
        if alloc:
            key = (alloc, hub_user_of(job))
            expected[key] = expected.get(key, 0.0) + job.cores * (t - job.start) / 3600
    assert {(r["allocation"], r["user"]): r["core_hours"] for r in report["running_by_user"]} \
        == pytest.approx(expected, abs=1e-6)  # fmt: skip


def test_refusals_stay_on_charged_usage(site):
    settings, _ = site
    used = charged(settings, "open-p1")
    report = local_usage_report(settings, user="ada")
    [row] = [r for r in report["allocations"] if r["id"] == "open-p1"]
    assert used < 1.0 < used + row["running_core_hours"]  # over the budget only with running
    alloc = validate_allocations(ALLOCATIONS)["open-p1"]
    check_allocation(alloc, "ada")  # the hub's and cluster()'s check: not refused
    require_budget(alloc)  # the scheduler's


def test_a_failing_queue_command_gives_no_figure_and_a_note(site, tmp_path, monkeypatch):
    settings, _ = site
    install_squeue(tmp_path / "failing", monkeypatch, [j for j, _ in TABLE], fail=True)
    report = local_usage_report(settings, user="ada")
    rows = {r["id"]: r for r in report["allocations"]}
    assert rows["open-p1"]["running_core_hours"] is None
    assert rows["open-p1"]["mine_running_core_hours"] is None
    assert rows["open-p1"]["used_core_hours"] == pytest.approx(charged(settings, "open-p1"))
    assert report["running_by_user"] == []
    [note] = [n for n in report["running_notes"] if "'open-p1'" in n]
    assert "'ada-p1'" in note and "Unable to contact slurm controller" in note


def test_alloc_usage_shows_running_not_yet_charged(site, capsys):
    from genesis_lab.cli import main

    assert main(["alloc", "usage", "open-p1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    total = reference(shown["running_as_of"])
    [row] = shown["allocations"]
    assert row["running_core_hours"] == pytest.approx(total["open-p1"], abs=1e-6)
    assert {r["allocation"] for r in shown["running_by_user"]} == {"open-p1"}
    assert main(["alloc", "usage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    [as_of] = [line.split(" as of ")[1].rstrip(":") for line in lines
               if line.startswith("Running (not yet charged), as of ")]  # fmt: skip
    total = reference(as_of)
    header = next(i for i, line in enumerate(lines) if line.startswith("ALLOCATION  BUDGET"))
    table = {line.split()[0]: line.split() for line in lines[header + 1 :]
             if line.strip() and not line.startswith(("RUNNING", "note:"))}  # fmt: skip
    for alloc in ("open-p1", "ada-p1", "carol-p2"):
        assert float(table[alloc][5]) == pytest.approx(total[alloc], abs=1e-4)
    assert table["pbs-x"][5] == table["here"][5] == "-"
    assert any(line.startswith("RUNNING = running (not yet charged)") for line in lines)
    assert any(line.startswith("note: allocation 'pbs-x'") for line in lines)


def test_inside_a_session_the_figures_come_from_the_service(site):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from fixtures.net import send_json

    from genesis_lab.compute.ledger import running_core_hours

    settings, _ = site
    answers: list[dict] = []

    class Service(BaseHTTPRequestHandler):
        def do_GET(self):  # the service's own answer to ada's token
            assert self.path == "/api/usage"
            answers.append(local_usage_report(settings, user="ada"))
            send_json(self, 200, answers[-1])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = settings.model_copy(update={
            "service_url": f"http://127.0.0.1:{server.server_address[1]}/",
            "hub_api_token": "ada-token"})  # fmt: skip
        allocs = validate_allocations(ALLOCATIONS)
        got = running_core_hours([allocs["open-p1"], allocs["pbs-x"]], session)
    finally:
        server.shutdown()
        server.server_close()
    [answer] = answers
    total = reference(answer["running_as_of"])
    assert got == {"open-p1": pytest.approx(total["open-p1"], abs=1e-6)}  # pbs-x: no figure


def test_the_queue_is_asked_once_per_interval_and_a_failure_kept_longer(site, monkeypatch):
    settings, calls = site
    monkeypatch.setattr(running, "FAILURE_CACHE_SECONDS", 0.0)
    first = local_usage_report(settings, user="ada")
    again = local_usage_report(settings, user="ada")
    assert len(calls.read_text().splitlines()) == 1
    as_of = [dt.datetime.fromisoformat(r["running_as_of"]).timestamp() for r in (first, again)]
    [row] = [r for r in again["allocations"] if r["id"] == "ada-p1"]
    # the kept answer still counts up to the later report's time
    assert row["running_core_hours"] == pytest.approx(
        reference(again["running_as_of"])["ada-p1"], abs=1e-6)  # fmt: skip
    assert as_of[1] >= as_of[0]
    monkeypatch.setattr(running, "CACHE_SECONDS", 0.0)
    local_usage_report(settings, user="ada")
    assert len(calls.read_text().splitlines()) == 2
    # a failing queue: kept for FAILURE_CACHE_SECONDS
    monkeypatch.setattr(running, "FAILURE_CACHE_SECONDS", 60.0)
    table = json.loads((calls.parent / "squeue.json").read_text())
    (calls.parent / "squeue.json").write_text(json.dumps({**table, "fail": True}))
    for _ in range(2):
        notes = local_usage_report(settings, user="ada")["running_notes"]
        assert [n for n in notes if n.startswith("allocations 'open-p1', 'ada-p1': running jobs "
                                                 "not shown")], notes  # fmt: skip
    assert len(calls.read_text().splitlines()) == 3
