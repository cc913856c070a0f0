"""The site ledger: torn appends, sums and balances, budget refusals, and what a session is told
when its genesis service cannot be reached. The route through a real service process:
``test_watchdog.py`` (charges) and ``tests/unit/training/test_courses.py`` (usage read back)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from genesis_lab.compute.allocations import Allocation
from genesis_lab.compute.ledger import (
    Ledger,
    UsageRecord,
    charge,
    get_ledger,
    local_usage_report,
    require_budget,
    used_core_hours,
)
from genesis_lab.errors import AllocationError
from genesis_lab.settings import Settings

ALLOCS = [
    {"id": "shared", "scheduler": "local", "members": ["alice", "bob"], "budget_core_hours": 3},
    {"id": "solo", "scheduler": "local", "members": ["carol"]},
]


def _rec(alloc="shared", user="alice", cores=1, seconds=3600, kind="cluster"):
    return UsageRecord.from_times(allocation=alloc, user=user, kind=kind, ref="r", cores=cores,
                                  start=1_000, end=1_000 + seconds, source="worker-lifetime")  # fmt: skip


def test_a_torn_last_line_is_not_a_record_and_the_next_append_cuts_it(tmp_path):
    led = Ledger(tmp_path / "usage.jsonl")
    led.record(_rec(cores=2))
    whole = led.path.read_bytes()
    led.path.write_bytes(whole + whole[: len(whole) // 2])  # a crash in the middle of a write
    assert [r.cores for r in led.records()] == [2]
    led.record(_rec(cores=3))
    lines = led.path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3  # two whole lines, the torn one gone
    assert [r.cores for r in led.records()] == [2, 3]


def test_the_folder_and_file_only_their_owner_may_enter(tmp_path):
    led = Ledger(tmp_path / "service" / "ledger" / "usage.jsonl")
    led.record(_rec())
    assert stat.S_IMODE(led.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(led.path.stat().st_mode) == 0o600


def _site(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, allocations=ALLOCS, service_url=None, user="alice")


def test_report_sums_per_allocation_and_user_and_the_remaining_balance(tmp_path):
    s = _site(tmp_path)
    recs = [_rec(cores=2, seconds=1800), _rec(user="bob", cores=1, seconds=5400),
            _rec(alloc="solo", user="carol", cores=4, seconds=900)]  # fmt: skip
    for r in recs:
        charge(r, s)
    shared = [r for r in recs if r.allocation == "shared"]
    total = sum(r.core_hours for r in shared)
    mine = sum(r.core_hours for r in shared if r.user == "alice")
    rep = local_usage_report(s, user="alice")
    assert [r["user"] for r in rep["records"]] == ["alice"]
    assert rep["by_user"] == [{"allocation": "shared", "user": "alice", "core_hours": mine}]
    assert rep["allocations"] == [{
        "id": "shared", "budget_core_hours": 3, "used_core_hours": total,
        "mine_core_hours": mine, "remaining_core_hours": 3 - total,
        "running_core_hours": None, "mine_running_core_hours": None}]  # fmt: skip
    assert rep["running_by_user"] == rep["running_notes"] == []  # local: no batch jobs
    admin = local_usage_report(s, user="root", admin=True)
    assert len(admin["records"]) == 3
    assert {a["id"]: a["used_core_hours"] for a in admin["allocations"]} == {
        "shared": total, "solo": recs[2].core_hours}  # fmt: skip
    assert used_core_hours("shared", settings=s) == total
    assert used_core_hours("shared", "bob", settings=s) == recs[1].core_hours


def test_require_budget_refuses_once_spent_naming_used_and_budget(genesis_home, monkeypatch):
    from genesis_lab.settings import get_settings, reset_settings

    site = genesis_home / "site.yaml"
    import yaml

    site.write_text(yaml.safe_dump({"allocations": ALLOCS}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    require_budget("shared", "alice")
    get_ledger().record(_rec(cores=3, seconds=3600))
    assert used_core_hours("shared") == 3.0
    for who in ("bob", None):  # a member, or a scheduler that names no user
        with pytest.raises(AllocationError) as err:
            require_budget("shared", who)
        assert "'shared'" in str(err.value) and "used 3.00 of 3 core-hours" in str(err.value)
    require_budget("solo")  # no budget: never spent
    require_budget(Allocation(id="solo", scheduler="local", members=["carol"]), "carol")
    with pytest.raises(AllocationError, match="not a member"):
        require_budget("solo", "alice")
    assert get_settings().site_file == site


def test_worker_jobs_are_charged_once_from_the_queues_start_and_close_charges_the_rest(tmp_path):
    import asyncio

    from genesis_lab.compute.usage import UsagePlugin

    led = Ledger(tmp_path / "usage.jsonl")
    queue = [("17", 4, 1_000.0)]  # id, cores, start: what squeue says of the cluster's jobs
    plugin = UsagePlugin(ledger=led, allocation="shared", user="alice",
                         running_jobs=lambda: list(queue))  # fmt: skip
    plugin._note_job_starts()
    # two worker processes of job 17 leave; a worker without a job lives on until close()
    plugin.charge(("w-0", 2, 1_500.0, "17"), 2_800.0)
    plugin.charge(("w-1", 2, 1_500.0, "17"), 2_900.0)
    plugin.active["tcp://w-2"] = ("w-2", 1, 2_000.0, None)

    async def close() -> None:
        await plugin.close()

    asyncio.run(close())
    recs = [(r.ref, r.cores, r.source, r.core_hours) for r in led.records()]
    assert recs[0] == ("17", 4, "job-lifetime", round(4 * 1_800 / 3600, 6))
    assert len(recs) == 2 and recs[1][:3] == ("w-2", 1, "worker-lifetime") and recs[1][3] > 0
    assert not plugin.active and not plugin.pending


def test_an_account_that_may_not_write_the_ledger_is_told_the_path_and_the_way(tmp_path):
    from genesis_lab.errors import ComputeError

    if os.geteuid() == 0:  # root writes anywhere: try as an account that may not
        import subprocess
        import sys

        folder = tmp_path / "ledger"
        Ledger(folder / "usage.jsonl").record(_rec())
        os.chmod(tmp_path, 0o755)
        code = (
            "from pathlib import Path; from genesis_lab.compute.ledger import Ledger, UsageRecord\n"
            "from genesis_lab.errors import ComputeError\n"
            f"led = Ledger(Path({str(folder / 'usage.jsonl')!r}))\n"
            "r = UsageRecord.from_times(allocation='a', user='u', kind='cluster', ref='1', "
            "cores=1, start=0, end=1, source='worker-lifetime')\n"
            "try:\n    led.record(r)\nexcept ComputeError as exc:\n    print('REFUSED', exc)\n"
        )
        out = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", code],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert "REFUSED" in out.stdout and "GENESIS_SERVICE_URL" in out.stdout, out.stderr
        assert len(list(Ledger(folder / "usage.jsonl").records())) == 1
        return
    folder = tmp_path / "ledger"
    folder.mkdir(mode=0o500)
    with pytest.raises(ComputeError, match="GENESIS_SERVICE_URL"):
        Ledger(folder / "usage.jsonl").record(_rec())


def test_a_session_whose_service_cannot_be_reached_is_told_the_url_to_check(tmp_path):
    from fixtures.net import free_port

    from genesis_lab.errors import ComputeError

    url = f"http://127.0.0.1:{free_port()}/services/genesis/"
    s = Settings(home=tmp_path, allocations=ALLOCS, service_url=url, hub_api_token="t",
                 user="alice")  # fmt: skip
    for ask in (lambda: charge(_rec(), s), lambda: used_core_hours("shared", settings=s)):
        with pytest.raises(ComputeError) as err:
            ask()
        assert f"The genesis service at {url} cannot be reached" in str(err.value)
        assert "Check GENESIS_SERVICE_URL" in str(err.value)
    assert not get_ledger(s).path.exists()  # never written around the service
