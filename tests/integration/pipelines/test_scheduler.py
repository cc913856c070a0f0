"""The scheduler with real child processes: injected clock, restarts, recovery, failure notices."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from genesis_lab.pipelines import leaderboard
from genesis_lab.pipelines.scheduler import Journal, Scheduler
from genesis_lab.pipelines.schedules import ScheduleBook
from genesis_lab.settings import get_settings, reset_settings

GL = str(Path(sys.executable).parent / "genesis-lab")
T0 = dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def minutes(m):
    return T0 + dt.timedelta(minutes=m)


def test_due_runs_fire_once_across_ticks_and_restarts(demo_challenge):
    s = ScheduleBook().add("demo", "*/10 * * * *", parameters={"n": "4"}, now=T0)
    clock = Clock(minutes(5))
    sched = Scheduler(clock=clock)
    assert sched.tick() == []
    clock.t = minutes(12)
    [fired] = sched.tick()
    assert fired["slot"] == minutes(10).isoformat() and fired["status"] == "launched"
    assert sched.tick() == []
    assert Scheduler(clock=clock).tick() == []  # a restarted scheduler does not fire it again
    clock.t = minutes(45)  # 20, 30 and 40 were missed: one run, for 40
    restarted = Scheduler(clock=clock)
    [fired2] = restarted.tick()
    assert fired2["slot"] == minutes(40).isoformat()
    sched.wait(120)
    restarted.wait(120)
    entries = Journal(get_settings()).entries(s.id)
    assert [e["slot"] for e in entries] == [minutes(10).isoformat(), minutes(40).isoformat()]
    assert all(e["metrics"] == {"total": 6.0, "terms": 4} for e in entries)
    runs = leaderboard("demo")
    assert sorted(r.run_id for r in runs) == sorted(e["run_id"] for e in entries)
    assert {r.status["owner"] for r in runs} == {s.owner}


def _wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_claimed_but_unlaunched_slot_is_recovered_and_never_run_twice(demo_challenge):
    s = ScheduleBook().add("demo", "*/10 * * * *", now=T0)
    journal = Journal(get_settings())
    slot = minutes(10)
    journal.claim(s, slot)  # the scheduler died right after claiming
    with ScheduleBook().edit() as book:
        book[s.id].last_fired = slot
    sched = Scheduler(clock=Clock(minutes(12)))
    assert sched.tick() == []
    [relaunched] = sched.recover()
    assert relaunched["status"] == "launched"
    sched.wait(120)
    [entry] = journal.entries(s.id)
    assert entry["status"] == "completed"
    again = subprocess.run([GL, "schedule", "fire", s.id, slot.isoformat()],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert again.returncode == 0 and "already-started" in again.stdout
    assert len(leaderboard("demo")) == 1


@pytest.fixture
def sinks(tmp_path, monkeypatch, free_port):
    from aiosmtpd.controller import Controller

    mails, posts = [], []

    class Mail:
        async def handle_DATA(self, server, session, envelope):
            mails.append(envelope)
            return "250 OK"

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    smtp = Controller(Mail(), hostname="127.0.0.1", port=free_port)
    smtp.start()
    http = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"notifications": {
        "smtp": {"host": "127.0.0.1", "port": free_port, "sender": "genesis@lab.test"},
        "emails": {"alice": "alice@lab.test"}}}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    yield mails, posts, f"http://127.0.0.1:{http.server_port}/hook"
    smtp.stop()
    http.shutdown()
    http.server_close()


def test_a_failed_scheduled_run_is_recorded_and_the_owner_notified(demo_challenge, sinks):
    mails, posts, url = sinks
    s = ScheduleBook().add("demo", "0 * * * *", parameters={"fail": "true"}, owner="alice",
                           notify=url, now=T0)  # fmt: skip
    sched = Scheduler(clock=Clock(minutes(61)))
    assert len(sched.tick()) == 1
    sched.wait(120)
    [entry] = Journal(get_settings()).entries(s.id)
    assert entry["status"] == "failed"
    assert entry["error"]["ename"] == "RuntimeError" and entry["error"]["cell"] == 3
    assert entry["notified"] == ["mailto:alice@lab.test", url]
    [mail] = mails
    assert mail.rcpt_tos == ["alice@lab.test"] and b"RuntimeError" in mail.content
    [post] = posts
    assert post["owner"] == "alice" and post["run_id"] == entry["run_id"]
    failed = get_settings().results_root / "demo" / entry["run_id"] / "status.json"
    assert json.loads(failed.read_text())["owner"] == "alice"


@pytest.mark.slow
def test_standalone_scheduler_process_and_runs_outlive_it(demo_challenge):
    s = ScheduleBook().add("demo", "* * * * * */3", parameters={"sleep": "2"})
    proc = subprocess.Popen([GL, "scheduler", "--interval", "0.3"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    journal = Journal(get_settings())
    try:
        _wait_for(lambda: any(e["status"] == "running" for e in journal.entries(s.id)), 60)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the scheduler (and its session) is gone
        proc.wait()
    ScheduleBook().remove(s.id)
    running = [e for e in journal.entries(s.id) if e["status"] == "running"]
    _wait_for(lambda: all(
        e["status"] == "completed" for e in journal.entries(s.id) if e["slot"] in
        {r["slot"] for r in running}), 90)  # fmt: skip
    assert leaderboard("demo")


def _scheduler() -> subprocess.Popen:
    proc = subprocess.Popen([GL, "scheduler", "--interval", "0.05"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert "checking every" in proc.stdout.readline()
    time.sleep(1)  # ticking
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_scheduler_process_stops_at_once_when_told(genesis_home, sig):
    """The hub stops its scheduler with SIGINT, then SIGTERM: either ends it between ticks, with
    exit code 0; signals arriving in any part of the tick loop do not hang it."""
    with _scheduler() as proc:
        proc.send_signal(sig)
        assert proc.wait(10) == 0
    with _scheduler() as proc:
        deadline = time.monotonic() + 10
        while proc.poll() is None:  # until it exits (Python's own exit restores the default)
            assert time.monotonic() < deadline, "the scheduler did not stop"
            proc.send_signal(sig)
            time.sleep(0.005)
        assert proc.wait(10) in (0, -sig)
