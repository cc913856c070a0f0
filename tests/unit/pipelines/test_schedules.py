"""Schedule definitions and the firing policy (injected clock; nothing is launched here)."""

import datetime as dt

import pytest

from genesis_lab.errors import ParameterError, ScheduleError
from genesis_lab.pipelines.scheduler import Journal, due_slot
from genesis_lab.pipelines.schedules import Schedule, ScheduleBook
from genesis_lab.settings import get_settings

T0 = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_due_slot_fires_the_latest_missed_slot_once():
    s = Schedule(id="s", challenge="demo", cron="0 2 * * *", owner="u", created=T0)
    assert due_slot(s, at(1)) is None  # 01:30, first slot is 02:00
    assert due_slot(s, at(1.5)) == dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    s.last_fired = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    assert due_slot(s, at(2)) is None  # same slot is never due twice
    # scheduler down for three days: one run, for the most recent slot
    assert due_slot(s, at(3 * 24 + 5)) == dt.datetime(2026, 3, 4, 2, tzinfo=dt.UTC)


def test_add_validates_cron_parameters_and_notify(demo_challenge):
    book = ScheduleBook()
    with pytest.raises(ScheduleError, match="cron expression '61 \\* \\* \\* \\*' is invalid"):
        book.add("demo", "61 * * * *")
    with pytest.raises(ParameterError, match="unknown parameter 'x = 1; import os #'"):
        book.add("demo", "0 2 * * *", parameters={"x = 1; import os #": "1"})
    with pytest.raises(ParameterError, match="'n'"):
        book.add("demo", "0 2 * * *", parameters={"n": "0"})
    with pytest.raises(ScheduleError, match="email address or an http"):
        book.add("demo", "0 2 * * *", notify="someone")
    assert book.list() == []


def test_add_list_remove_round_trip(demo_challenge):
    book = ScheduleBook()
    s = book.add("demo", "*/5 * * * *", parameters={"n": "9"}, owner="alice", now=T0)
    assert s.parameters["n"] == 9 and s.owner == "alice"
    assert [x.id for x in ScheduleBook().list()] == [s.id]
    assert (get_settings().state_dir / "schedules.json").is_file()
    ScheduleBook().remove(s.id)
    assert ScheduleBook().list() == []
    with pytest.raises(ScheduleError, match="No schedule"):
        ScheduleBook().remove(s.id)


def test_unknown_allocation_is_refused(demo_challenge):
    from genesis_lab.errors import AllocationError

    with pytest.raises(AllocationError, match="No allocation 'nope'"):
        ScheduleBook().add("demo", "0 2 * * *", allocation="nope")


def test_a_slot_can_be_claimed_only_once(demo_challenge):
    s = ScheduleBook().add("demo", "0 2 * * *", now=T0)
    journal = Journal(get_settings())
    slot = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    assert journal.claim(s, slot)["status"] == "claimed"
    assert journal.claim(s, slot) is None


def test_runs_are_started_as_the_owners_account_when_root():
    import getpass
    import os

    from genesis_lab.errors import GenesisError
    from genesis_lab.pipelines.scheduler import Scheduler

    plain = Scheduler()  # no hub mapping: owners are Unix names; a hub-only user runs as us
    assert plain.account(getpass.getuser()) is None
    assert plain.account("no-such-unix-user-xyz") is None
    hub = Scheduler(account_of=lambda owner: f"x-{owner}")
    if os.geteuid() != 0:
        assert plain.account("nobody") is None and hub.account("nobody") is None
        return
    assert plain.account("nobody").pw_name == "nobody"
    with pytest.raises(GenesisError, match=r"owner 'nobody' has no Unix account 'x-nobody'"):
        hub.account("nobody")  # never run as root instead
    # a hub user named like a system account (root included) never gets runs as that account
    same_name = Scheduler(account_of=lambda owner: owner)  # a SLURM site's mapping
    for system in ("root", "daemon", "nobody"):
        with pytest.raises(GenesisError, match=rf"maps to the system account '{system}'"):
            same_name.account(system)


def test_an_owners_run_gets_the_sites_paths_and_nothing_of_the_schedulers(monkeypatch):
    from genesis_lab.pipelines.scheduler import job_environment
    from genesis_lab.settings import reset_settings

    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-schedulers-own")
    monkeypatch.setenv("GENESIS_STATE_DIR", "/srv/state")
    monkeypatch.setenv("GENESIS_RESULTS_ROOT", "/srv/results")
    reset_settings()
    env = job_environment(get_settings(), "ann", "semi-hpc")
    assert env["GENESIS_RESULTS_ROOT"] == "/srv/results"
    assert (env["GENESIS_USER"], env["GENESIS_ALLOCATION"]) == ("ann", "semi-hpc")
    assert "JUPYTERHUB_API_TOKEN" not in env and "GENESIS_STATE_DIR" not in env
    assert "GENESIS_HOME" not in env
