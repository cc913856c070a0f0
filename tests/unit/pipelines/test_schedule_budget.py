"""A schedule on an allocation whose budget the site ledger shows spent is refused, with why."""

from __future__ import annotations

import datetime as dt
import getpass

import yaml

from genesis_lab.compute.ledger import UsageRecord, charge
from genesis_lab.pipelines.scheduler import Scheduler
from genesis_lab.pipelines.schedules import ScheduleBook
from genesis_lab.settings import get_settings, reset_settings

T0 = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)


def _site(tmp_path, monkeypatch, budget: float) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [
        {"id": "lab", "scheduler": "local", "members": ["*"], "budget_core_hours": budget},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()


def test_a_spent_budget_refuses_the_scheduled_run_before_anything_starts(
    demo_challenge, tmp_path, monkeypatch
):
    _site(tmp_path, monkeypatch, budget=1.0)
    settings = get_settings()
    book = ScheduleBook(settings)
    book.add("demo", "0 2 * * *", allocation="lab", owner=getpass.getuser(), now=T0)
    used = 1.25  # core-hours charged after the schedule was made: just above the budget
    charge(UsageRecord.from_times(allocation="lab", user="someone", kind="session", ref="j1",
                                  cores=1, start=0, end=used * 3600, source="job-lifetime"),
           settings)  # fmt: skip
    scheduler = Scheduler(settings, clock=lambda: T0 + dt.timedelta(hours=1.6))

    [entry] = scheduler.tick()

    assert entry["status"] == "failed"
    assert entry["error"]["ename"] == "BudgetSpent"
    reason = entry["error"]["evalue"]
    assert "'lab'" in reason and "used 1.25 of 1 core-hours" in reason, reason
    assert scheduler.children == []  # nothing was started
    assert not entry.get("job_id") and not entry.get("started_at")
