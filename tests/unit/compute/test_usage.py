"""Charging cluster usage: from sacct when it answers (once per job), else worker lifetimes.

This machine's SLURM has no slurmdbd, so ``sacct`` is played by ``printf`` printing what
``sacct --parsable2 --format AllocCPUS,Start,End,ElapsedRaw,State`` prints.
"""

from __future__ import annotations

import datetime as dt

from genesis_lab.compute.ledger import Ledger
from genesis_lab.compute.usage import UsagePlugin, sacct_usage

SACCT_LINE = "4|2026-11-23T10:00:00|2026-11-23T10:30:00|1800|COMPLETED\n"


def test_sacct_output_is_parsed():
    cores, start, end = sacct_usage(["printf", SACCT_LINE], "17")
    assert cores == 4 and end - start == 1800
    assert start == dt.datetime(2026, 11, 23, 10, 0, 0).timestamp()
    assert sacct_usage(["printf", ""], "17") is None
    assert (
        sacct_usage(["sh", "-c", "echo 'accounting storage is disabled' >&2; exit 1"], "1") is None
    )


def test_plugin_charges_a_job_once_from_sacct(tmp_path):
    ledger = Ledger(tmp_path / "usage.jsonl")
    plugin = UsagePlugin(ledger=ledger, allocation="a", user="alice", sacct=["printf", SACCT_LINE])
    # two worker processes of job 17 leave: one record, 4 cores for half an hour
    plugin.charge(("w-0", 2, 1000.0, "17"), 1100.0)
    plugin.charge(("w-1", 2, 1000.0, "17"), 1100.0)
    recs = list(ledger.records())
    assert [(r.ref, r.cores, r.core_hours, r.source) for r in recs] == [("17", 4, 2.0, "sacct")]


def test_plugin_falls_back_to_worker_lifetimes_when_sacct_cannot_answer(tmp_path):
    ledger = Ledger(tmp_path / "usage.jsonl")
    plugin = UsagePlugin(ledger=ledger, allocation="a", user="alice", sacct=["false"])
    plugin.charge(("w-0", 2, 0.0, "17"), 900.0)
    plugin.charge(("w-1", 2, 0.0, "17"), 900.0)
    recs = list(ledger.records())
    assert [(r.ref, r.cores, r.core_hours, r.source) for r in recs] == [
        ("17", 2, 0.5, "worker-lifetime"), ("17", 2, 0.5, "worker-lifetime")]  # fmt: skip
    assert plugin.sacct is None  # stops asking after the first failure


def test_a_job_accounting_has_not_recorded_yet_does_not_stop_asking_for_the_next(tmp_path):
    ledger = Ledger(tmp_path / "usage.jsonl")
    # accounting knows job 18 but not yet job 17 (slurmdbd behind slurmctld under load)
    answers = f'case "$1" in 18) printf "{SACCT_LINE.strip()}";; esac'
    plugin = UsagePlugin(ledger=ledger, allocation="a", user="alice",
                         sacct=["sh", "-c", answers, "sh", "{job_id}"])  # fmt: skip
    plugin.job_starts = {"17": (1, 0.0), "18": (1, 0.0)}
    plugin.charge(("w-0", 1, 0.0, "17"), 900.0)
    plugin.charge(("w-1", 1, 0.0, "18"), 900.0)
    recs = list(ledger.records())
    assert [(r.ref, r.source) for r in recs] == [("17", "job-lifetime"), ("18", "sacct")]
    assert plugin.sacct is not None


def test_a_job_recorded_while_the_scheduler_closes_is_charged_from_accounting(tmp_path):
    import asyncio

    ledger = Ledger(tmp_path / "usage.jsonl")
    flag = tmp_path / "recorded"
    # the job's record reaches accounting a second after the scheduler closes
    answers = f'[ -e {flag} ] && printf "{SACCT_LINE.strip()}"; exit 0'
    plugin = UsagePlugin(ledger=ledger, allocation="a", user="alice",
                         sacct=["sh", "-c", answers, "sh", "{job_id}"])  # fmt: skip
    plugin.active["tcp://w"] = ("w-0", 1, 0.0, "17")

    async def closing():
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, flag.touch)
        await plugin.close()

    asyncio.run(closing())
    assert [(r.ref, r.cores, r.source) for r in ledger.records()] == [("17", 4, "sacct")]
