"""The usage ledger: durable appends, sums per allocation and user, concurrent writers."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing

import pytest

from genesis_lab.compute.ledger import Ledger, UsageRecord, get_ledger, used_core_hours
from genesis_lab.errors import ComputeError


def _rec(alloc="a", user="u", cores=1, seconds=3600, ref="1"):
    return UsageRecord.from_times(allocation=alloc, user=user, kind="cluster", ref=ref,
                                  cores=cores, start=0, end=seconds, source="worker-lifetime")  # fmt: skip


def test_ledger_lives_in_the_service_folder_of_the_state_dir(genesis_home):
    assert get_ledger().path == genesis_home / "state" / "service" / "ledger" / "usage.jsonl"
    assert used_core_hours("a") == 0.0


def test_appends_and_sums(tmp_path):
    led = Ledger(tmp_path / "usage.jsonl")
    led.record(_rec(cores=2, seconds=1800))
    led.record(_rec(user="v", cores=4, seconds=900))
    led.record(_rec(alloc="b", cores=8, seconds=3600))
    assert led.used_core_hours("a") == 2.0
    assert led.used_core_hours("a", "v") == 1.0
    assert led.summary() == {("a", "u"): 1.0, ("a", "v"): 1.0, ("b", "u"): 8.0}
    lines = (tmp_path / "usage.jsonl").read_text().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert set(first) == {"time", "allocation", "user", "kind", "ref", "cores", "start", "end",
                          "core_hours", "source"}  # fmt: skip
    assert first["start"] == "1970-01-01T00:00:00+00:00"


def test_bad_record_and_unreadable_line(tmp_path):
    with pytest.raises(ComputeError, match="ends before it starts"):
        UsageRecord.from_times(allocation="a", user="u", kind="cluster", ref="1", cores=1,
                               start=10, end=5, source="worker-lifetime")  # fmt: skip
    path = tmp_path / "usage.jsonl"
    path.write_text("{not json\n")
    with pytest.raises(ComputeError, match="unreadable line 1"):
        Ledger(path).used_core_hours("a")


def _append_many(path, n):
    led = Ledger(path)
    for i in range(n):
        led.record(_rec(ref=str(i), seconds=36))


def test_concurrent_writers_lose_no_record(tmp_path):
    path = tmp_path / "usage.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, 50)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    led = Ledger(path)
    assert len(list(led.records())) == 200
    assert led.used_core_hours("a") == pytest.approx(2.0)


def test_a_job_charged_from_accounting_is_not_charged_again_whoever_appended_it(tmp_path):
    path = tmp_path / "usage.jsonl"
    ledger = Ledger(path)
    first = UsageRecord.from_times(allocation="a", user="u", kind="cluster", ref="41", cores=2,
                                   start=0, end=3600, source="worker-lifetime")  # fmt: skip
    assert ledger.record(first) == first
    # another process (the hub) appends the accounting's record of job 42 behind this one's back
    accounted = UsageRecord.from_times(allocation="a", user="u", kind="cluster", ref="42",
                                       cores=4, start=0, end=1800, source="sacct")  # fmt: skip
    with path.open("a") as fh:
        fh.write(json.dumps(dataclasses.asdict(accounted), sort_keys=True) + "\n")
    again = dataclasses.replace(accounted, source="worker-lifetime", cores=1)
    assert ledger.record(again) == accounted
    assert ledger.record(first) == first  # lifetime pieces of one job may repeat
    assert ledger.record(first, once=True) == first
    assert [r.ref for r in ledger.records()] == ["41", "42", "41"]
    # the file replaced by a new one: what it held before counts no more
    path.unlink()
    assert Ledger(path).record(again) == again
    assert [r.source for r in Ledger(path).records()] == ["worker-lifetime"]
