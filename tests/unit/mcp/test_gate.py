"""The agents' human gate: limits per call and per day, pending/approve/reject, the stop."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml

from genesis_lab.compute.allocations import AgentLimits, validate_allocations
from genesis_lab.errors import SettingsError
from genesis_lab.mcp.gate import Estimate, Gate, UnknownRequestError, argument_digest
from genesis_lab.settings import reset_settings

REPO = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self, when: str = "2026-12-04T10:00:00+00:00"):
        self.t = dt.datetime.fromisoformat(when).timestamp()

    def __call__(self) -> float:
        return self.t


def make_gate(tmp_path: Path, clock: Clock | None = None, **limits) -> Gate:
    return Gate(
        AgentLimits(**limits), tmp_path / "agents", allocation="lab", clock=clock or Clock()
    )


def test_a_call_within_the_limits_runs(tmp_path):
    gate = make_gate(tmp_path, core_hours_per_call=1.0, core_hours_per_day=5.0)
    admission = gate.admit("simulator_run", {"id": "a/b"}, Estimate(1.0, False))
    assert admission.status == "allowed"
    assert gate.pending() == []


def test_over_the_per_call_limit_is_held_until_approved_once(tmp_path):
    gate = make_gate(tmp_path, core_hours_per_call=1.0, core_hours_per_day=100.0)
    args = {"id": "a/b", "n": 64}
    held = gate.admit("simulator_run", args, Estimate(1.5, False))
    assert held.status == "pending" and held.request_id
    assert "agents.core_hours_per_call" in held.reason and "'lab'" in held.reason
    assert gate.decision(held.request_id) == "pending"
    # asked again while it waits: the same request, no second one
    again = gate.admit("simulator_run", args, Estimate(1.5, False))
    assert (again.status, again.request_id) == ("pending", held.request_id)
    [listed] = gate.pending()
    assert listed["id"] == held.request_id and listed["tool"] == "simulator_run"
    assert listed["digest"] == argument_digest("simulator_run", args)
    assert (listed["core_hours"], listed["batch"]) == (1.5, False)
    assert listed["created"].startswith("2026-12-04T10:00:00")
    # a different call is not covered by the approval
    other = gate.admit("simulator_run", {"id": "a/b", "n": 65}, Estimate(1.5, False))
    assert other.status == "pending" and other.request_id != held.request_id

    gate.approve(held.request_id, by="alice")
    assert gate.decision(held.request_id) == "approved"
    assert [p["id"] for p in gate.pending()] == [other.request_id]
    ran = gate.admit("simulator_run", args, Estimate(1.5, False))
    assert (ran.status, ran.request_id) == ("allowed", held.request_id)
    # the approval is used up: the same call again needs a new one
    next_time = gate.admit("simulator_run", args, Estimate(1.5, False))
    assert next_time.status == "pending" and next_time.request_id != held.request_id


def test_a_rejected_call_is_refused(tmp_path):
    gate = make_gate(tmp_path, core_hours_per_call=0.5)
    held = gate.admit("sweep_start", {"points": 1000}, Estimate(3.0, False))
    gate.reject(held.request_id, by="alice")
    assert gate.decision(held.request_id) == "rejected"
    refused = gate.admit("sweep_start", {"points": 1000}, Estimate(3.0, False))
    assert refused.status == "refused" and "rejected by alice" in refused.reason
    with pytest.raises(Exception, match="already rejected"):
        gate.approve(held.request_id, by="alice")


def test_batch_needs_approval_unless_the_site_allows_it(tmp_path):
    strict = make_gate(tmp_path / "a", batch=False)
    held = strict.admit("challenge_run", {"id": "x"}, Estimate(0.1, True))
    assert held.status == "pending" and "agents.batch" in held.reason
    lenient = make_gate(tmp_path / "b", batch=True)
    assert lenient.admit("challenge_run", {"id": "x"}, Estimate(0.1, True)).status == "allowed"
    assert strict.admit("challenge_run", {"id": "y"}, Estimate(0.1, False)).status == "allowed"


def test_the_daily_limit_sums_the_charges_of_the_day(tmp_path):
    clock = Clock("2026-12-04T23:00:00+00:00")
    gate = make_gate(tmp_path, clock, core_hours_per_call=10.0, core_hours_per_day=2.0)
    charges = [0.7, 0.4, 0.5]
    for c in charges:
        gate.charge(c)
    assert gate.used_today() == pytest.approx(sum(charges))
    room = 2.0 - sum(charges)
    assert gate.admit("simulator_run", {"k": 1}, Estimate(room * 0.9, False)).status == "allowed"
    held = gate.admit("simulator_run", {"k": 2}, Estimate(room * 1.1, False))
    assert held.status == "pending" and "agents.core_hours_per_day" in held.reason
    # another gate object (another process) sees the same sums
    twin = make_gate(tmp_path, clock, core_hours_per_call=10.0, core_hours_per_day=2.0)
    assert twin.used_today() == pytest.approx(sum(charges))
    clock.t += 3600  # past midnight UTC: a new day
    assert gate.used_today() == 0.0
    assert gate.admit("simulator_run", {"k": 3}, Estimate(room * 1.1, False)).status == "allowed"


def test_unknown_request_ids_are_named(tmp_path):
    gate = make_gate(tmp_path, core_hours_per_call=0.1)
    held = gate.admit("simulator_run", {}, Estimate(1, False))
    for call in (gate.decision, lambda r: gate.approve(r, "a"), lambda r: gate.reject(r, "a")):
        with pytest.raises(UnknownRequestError, match="'r-nope'") as info:
            call("r-nope")
        assert held.request_id in str(info.value)


def fake_scheduler(tmp_path: Path, monkeypatch) -> Path:
    """A ``scancel`` on PATH that records its arguments."""
    bindir, record = tmp_path / "bin", tmp_path / "scancel.args"
    bindir.mkdir()
    script = bindir / "scancel"
    script.write_text(f'#!/bin/sh\necho "$@" >> {record}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_stop_cancels_work_and_jobs_and_refuses_until_enabled(tmp_path, monkeypatch):
    record = fake_scheduler(tmp_path, monkeypatch)
    gate = make_gate(tmp_path)
    cancelled = threading.Event()
    gate.register_work("sweep-1", cancelled.set, ["101", "102"])
    gate.register_work("done-1", lambda: None, [])
    gate.unregister_work("done-1")
    try:
        report = gate.stop(by="alice")
    finally:
        gate.close()
    assert cancelled.is_set()
    assert (report.work_cancelled, report.jobs_cancelled) == (1, 2)
    assert record.read_text().split() == ["101", "102"]
    refused = gate.admit("catalog_search", {"q": "x"}, Estimate(0, False))
    assert refused.status == "refused" and "alice" in refused.reason
    assert gate.stopped()["by"] == "alice"
    gate.enable(by="alice")
    assert gate.stopped() is None
    assert gate.admit("catalog_search", {"q": "x"}, Estimate(0, False)).status == "allowed"


def test_revoked_token_ids_stay_revoked(tmp_path):
    gate = make_gate(tmp_path)
    gate.revoke_tokens(["a3", "a5"])
    gate.revoke_tokens(["a5", "a9"])
    assert [gate.token_revoked(t) for t in ("a3", "a5", "a9", "a4", None)] == [
        True,
        True,
        True,
        False,
        False,
    ]


WORKER = textwrap.dedent(
    """
    import sys, threading, time, pathlib
    from genesis_lab.compute.allocations import AgentLimits
    from genesis_lab.mcp.gate import Gate
    folder, marker = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    gate = Gate(AgentLimits(), folder)
    done = threading.Event()
    def cancel():
        marker.write_text(str(time.time()))
        done.set()
    gate.register_work("campaign-7", cancel, [])
    print("ready", flush=True)
    done.wait(10)
    time.sleep(1)
    """
)


def test_stop_reaches_another_process_within_seconds(tmp_path):
    folder, marker = tmp_path / "agents", tmp_path / "cancelled-at"
    with subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder), str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    ) as worker:
        assert worker.stdout.readline().strip() == "ready"
        gate = Gate(AgentLimits(), folder)
        began = time.time()
        report = gate.stop(by="alice")
        assert marker.exists(), "the other process's work was not cancelled"
        assert float(marker.read_text()) - began < 5
        assert report.work_cancelled == 1 and report.processes == 2
        assert report.seconds < 5 and not report.errors
        worker.wait(10)


@pytest.mark.parametrize(
    ("agents", "field"),
    [
        ({"core_hours_per_call": -1}, "agents.core_hours_per_call"),
        ({"core_hours_per_day": "lots"}, "agents.core_hours_per_day"),
        ({"batch": "sometimes"}, "agents.batch"),
        ({"per_call": 1}, "agents.per_call"),
    ],
)
def test_bad_agent_limits_in_the_site_file_name_the_field(agents, field):
    with pytest.raises(SettingsError, match="'lab'") as info:
        validate_allocations([{"id": "lab", "scheduler": "local", "agents": agents}])
    assert field in str(info.value)


def test_the_session_gate_reads_its_allocations_limits(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    limits = {"core_hours_per_call": 0.25, "core_hours_per_day": 3.0, "batch": True}
    site.write_text(
        yaml.safe_dump(
            {
                "allocations": [
                    {"id": "lab", "scheduler": "local", "agents": limits},
                    {"id": "other", "scheduler": "local"},
                ]
            }
        )
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    monkeypatch.setenv("GENESIS_ALLOCATION", "lab")
    reset_settings()
    gate = Gate.for_session()
    assert gate.limits == AgentLimits(**limits) and gate.allocation == "lab"
    assert gate.folder == Path(os.environ["GENESIS_HOME"]) / "state" / "agents"
    monkeypatch.setenv("GENESIS_ALLOCATION", "other")
    reset_settings()
    assert Gate.for_session().limits == AgentLimits()


def test_the_cli_lists_approves_and_rejects(capsys):
    import json

    from genesis_lab.cli import main

    gate = Gate.for_session()
    a = gate.admit("sweep_start", {"n": 1}, Estimate(gate.limits.core_hours_per_call + 1, False))
    b = gate.admit("sweep_start", {"n": 2}, Estimate(gate.limits.core_hours_per_call + 1, False))
    assert main(["agent", "pending", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["id"] for p in listed] == [a.request_id, b.request_id]
    assert main(["agent", "approve", a.request_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": a.request_id, "decision": "approved"}
    assert main(["agent", "reject", b.request_id]) == 0
    capsys.readouterr()
    assert (gate.decision(a.request_id), gate.decision(b.request_id)) == ("approved", "rejected")
    assert main(["agent", "approve", "r-0000"]) == 1
    assert "'r-0000'" in capsys.readouterr().err
    assert main(["agent", "stop", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tokens_revoked"] == 0 and "no hub token" in report["errors"][0]
    assert gate.admit("catalog_search", {}, Estimate(0, False)).status == "refused"
    assert main(["agent", "enable"]) == 0
    assert gate.admit("catalog_search", {}, Estimate(0, False)).status == "allowed"
