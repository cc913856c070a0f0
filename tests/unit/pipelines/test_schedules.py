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


def test_runs_are_started_as_the_owner_when_root_and_a_real_user():
    import getpass
    import os

    from genesis_lab.pipelines.scheduler import owner_prefix

    assert owner_prefix(getpass.getuser()) == []
    assert owner_prefix("no-such-unix-user-xyz") == []  # a hub-only user: run as us, recorded
    expected = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    assert owner_prefix("nobody") == expected
