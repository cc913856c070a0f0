"""Charges from SLURM accounting where it answers: session jobs (the hub), ``alloc charge`` (a
submitted run's job) and scheduled runs take ``sacct``'s cores, start and end, marked ``sacct``;
without an answer they keep the job's own record (``job-lifetime``). A job charged as it ends
waits a little for accounting to record its end.

``sacct`` and ``scontrol`` are played by small scripts on PATH that print what SLURM prints
(``--parsable2`` with AllocCPUS,Start,End,ElapsedRaw,State; ``scontrol show job -o``); the real
ones, against slurmdbd, are in tests/integration/compute/test_site_ledger.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from genesis_lab.cli import main
from genesis_lab.compute.accounting import accounted_usage, parse_ended, sacct_usage
from genesis_lab.compute.ledger import get_ledger
from genesis_lab.hub.spawner import AllocationSpawnerMixin
from genesis_lab.settings import get_settings, reset_settings

START = dt.datetime(2026, 11, 23, 10, 0, 0)
RUNNING = f"4|{START.isoformat()}|Unknown|100|RUNNING"
ENDED = f"4|{START.isoformat()}|{(START + dt.timedelta(seconds=130)).isoformat()}|130|COMPLETED"
SCONTROL = (f"JobId=77 JobState=COMPLETED NumCPUs=2 StartTime={START.isoformat()} "
            f"EndTime={(START + dt.timedelta(seconds=1800)).isoformat()}")  # fmt: skip


@pytest.fixture
def slurm_tools(tmp_path, monkeypatch):
    """Fake ``sacct``/``scontrol`` on PATH: ``answers(name, *lines)`` makes ``name`` print the
    lines one call after another (the last one again and again); ``None`` makes it fail."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def answers(name: str, *lines: str | None) -> Path:
        folder = tmp_path / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for i, line in enumerate(lines):
            (folder / f"{i:03d}").write_text("" if line is None else line + "\n")
            if line is None:
                (folder / f"{i:03d}.fail").touch()
        script = bin_dir / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> {folder}/calls\n'
            f"n=$(wc -l < {folder}/calls); i=$(printf %03d $((n - 1)))\n"
            f'[ -e {folder}/$i ] || i=$(ls {folder} | grep -E "^[0-9]+$" | tail -1)\n'
            f"[ -e {folder}/$i.fail ] && {{ echo 'accounting storage is disabled' >&2; exit 1; }}\n"
            f"cat {folder}/$i\n"
        )
        script.chmod(0o755)
        return folder / "calls"

    return answers


def test_a_job_still_running_in_accounting_is_waited_for_until_its_end(slurm_tools):
    calls = slurm_tools("sacct", RUNNING, RUNNING, ENDED)
    command = ["sacct", "-j", "{job_id}"]
    cores, start, end = sacct_usage(command, "5", settle=10)
    assert (cores, end - start) == (4, 130)  # the recorded end, not the running elapsed
    assert len(calls.read_text().splitlines()) == 3 and "-j 5" in calls.read_text()

    slurm_tools("sacct", RUNNING)
    cores, start, end = sacct_usage(command, "5", settle=0)
    assert (cores, end - start, start) == (4, 100, START.timestamp())  # until now


def test_a_record_without_the_jobs_cpus_is_not_final(slurm_tools):
    # slurmdbd can hold a job's end before its allocation (AllocCPUS 0): never charge 0 cores
    incomplete = (
        f"0|{START.isoformat()}|{(START + dt.timedelta(seconds=4)).isoformat()}|4|CANCELLED"
    )
    calls = slurm_tools("sacct", incomplete, incomplete, ENDED)
    assert sacct_usage(["sacct", "-j", "{job_id}"], "8", settle=10)[0] == 4
    assert len(calls.read_text().splitlines()) == 3
    slurm_tools("sacct", incomplete)
    assert sacct_usage(["sacct", "-j", "{job_id}"], "8", settle=0) is None  # the caller's own
    ended = "|".join(["8", "gl-x-0a1b2c3d", "ann", "p1", "debug"]) + "|" + incomplete
    assert parse_ended(ended) == []  # the sync takes it on a later pass


def test_a_job_cancelled_before_it_started_is_not_waited_for(slurm_tools):
    slurm_tools("sacct", f"0|Unknown|{START.isoformat()}|0|CANCELLED by 0")
    t0 = time.monotonic()
    assert sacct_usage(["sacct", "-j", "{job_id}"], "6", settle=10) is None
    assert time.monotonic() - t0 < 3  # a hub stopping a pending session does not hang


def test_accounting_answers_only_for_batch_job_ids_of_a_scheduler_with_sacct(slurm_tools):
    slurm_tools("sacct", ENDED)
    assert accounted_usage("5") == (4, START.timestamp(), START.timestamp() + 130)
    assert accounted_usage("schedule:s1:2026") is None
    assert accounted_usage("5", "pbs") is None  # no sacct in its schedulers.yaml section
    slurm_tools("sacct", None)
    assert accounted_usage("5") is None


class _Base:
    job_id = ""

    def __init__(self) -> None:
        self.user_options = {"allocation": "hpc"}
        self.user = SimpleNamespace(name="alice")
        self.log = logging.getLogger("test")

    def clear_state(self) -> None:
        self.job_id = ""

    def run_post_stop_hook(self) -> None:
        return None


class Spawner(AllocationSpawnerMixin, _Base):
    pass


def test_a_session_job_is_charged_from_sacct_else_from_its_job_record(slurm_tools):
    slurm_tools("sacct", ENDED)
    slurm_tools("scontrol", SCONTROL)
    s = Spawner()
    s.job_id = "76"
    asyncio.run(s.run_post_stop_hook())
    slurm_tools("sacct", None)  # accounting down: the scheduler's record of job 77
    s.job_id = "77"
    asyncio.run(s.run_post_stop_hook())
    recs = [(r.ref, r.cores, r.core_hours, r.source) for r in get_ledger().records()]
    assert recs == [("76", 4, round(4 * 130 / 3600, 6), "sacct"),
                    ("77", 2, 1.0, "job-lifetime")]  # fmt: skip


@pytest.fixture
def hpc_site(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"allocations": [
        {"id": "hpc", "account": "fes-2026", "scheduler": "slurm", "queue": "batch",
         "members": ["*"]},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    monkeypatch.setenv("GENESIS_USER", "bob")
    reset_settings()
    return path


def test_alloc_charge_of_a_slurm_job_takes_accountings_cores_and_start(
    hpc_site, slurm_tools, capsys
):
    slurm_tools("sacct", RUNNING)  # the job charges itself as it ends: still running
    argv = ["alloc", "charge", "hpc", "--kind", "pipeline", "--ref", "4242", "--cores", "1",
            "--start", "1000", "--end", "1060", "--json"]  # fmt: skip
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    got = (shown["cores"], shown["core_hours"], shown["source"])
    assert got == (4, round(4 * 100 / 3600, 6), "sacct")
    assert shown["start"].startswith(START.isoformat()[:16])
    slurm_tools("sacct", None)
    assert main([*argv[:6], "4243", *argv[7:]]) == 0
    shown = json.loads(capsys.readouterr().out)
    got = (shown["cores"], shown["core_hours"], shown["source"])
    assert got == (1, round(60 / 3600, 6), "job-lifetime")


def test_a_scheduled_runs_job_is_charged_from_sacct(hpc_site, slurm_tools):
    from genesis_lab.pipelines.scheduler import Scheduler

    slurm_tools("sacct", ENDED)
    scheduler = Scheduler(get_settings())
    slot = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    entry = {"schedule": "s1", "slot": slot.isoformat(), "allocation": "hpc", "owner": "bob",
             "status": "completed", "job_id": "88", "started_at": "2026-11-23T10:00:05+00:00",
             "ended_at": "2026-11-23T10:01:00+00:00"}  # fmt: skip
    path = scheduler.journal.path("s1", slot)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(entry))
    assert scheduler._charge(entry)["charged"] == round(4 * 130 / 3600, 6)
    [rec] = get_ledger().records()
    assert (rec.ref, rec.cores, rec.source, rec.user) == ("88", 4, "sacct", "bob")
