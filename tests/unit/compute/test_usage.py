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
