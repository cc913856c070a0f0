"""``genesis-lab alloc ...`` and ``genesis-lab doctor`` through the real command line."""

from __future__ import annotations

import json

import pytest
import yaml

from genesis_lab.cli import main
from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.settings import reset_settings


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"allocations": [
        {"id": "fusion-hpc", "account": "fes-2026", "scheduler": "slurm", "queue": "batch",
         "walltime": "00:30:00", "cores": 2, "memory": "2GB", "interface": "lo",
         "budget_core_hours": 100, "members": ["alice"]},
        {"id": "laptop", "scheduler": "local", "members": "*"},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    monkeypatch.setenv("GENESIS_USER", "bob")
    reset_settings()
    return path


def test_alloc_list_json_and_mine(site, capsys):
    assert main(["alloc", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["fusion-hpc", "laptop"]
    assert rows[0]["account"] == "fes-2026" and rows[0]["used_core_hours"] == 0.0
    assert main(["alloc", "list", "--mine"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["ID", "SCHEDULER"]
    assert [line.split()[0] for line in table[1:]] == ["laptop"]


def test_alloc_show_and_unknown_id(site, capsys):
    assert main(["alloc", "show", "fusion-hpc"]) == 0
    assert "account: fes-2026" in capsys.readouterr().out
    assert main(["alloc", "show", "nope"]) == 1
    assert "fusion-hpc, laptop" in capsys.readouterr().err


def test_alloc_preview_prints_the_batch_script(site, capsys, monkeypatch):
    monkeypatch.setenv("GENESIS_USER", "alice")
    reset_settings()
    assert main(["alloc", "preview", "fusion-hpc", "--cores", "1", "--walltime", "00:10:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/usr/bin/env bash")
    for line in ("#SBATCH -A fes-2026", "#SBATCH -p batch", "#SBATCH -t 00:10:00",
                 "--cpus-per-task=1", "--lifetime 540s"):  # fmt: skip
        assert line in out
    assert main(["alloc", "preview", "fusion-hpc", "--cores", "8"]) == 1
    assert "the most per job is 2" in capsys.readouterr().err


def test_alloc_preview_refuses_non_members(site, capsys):
    assert main(["alloc", "preview", "fusion-hpc"]) == 1
    assert "'bob' is not a member" in capsys.readouterr().err


def test_alloc_usage(site, capsys):
    get_ledger().record(UsageRecord.from_times(allocation="fusion-hpc", user="alice",
        kind="cluster", ref="12", cores=2, start=0, end=5400, source="worker-lifetime"))  # fmt: skip
    assert main(["alloc", "usage", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by_user"] == [
        {"allocation": "fusion-hpc", "user": "alice", "core_hours": 3.0}]  # fmt: skip
    assert main(["alloc", "usage", "laptop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by_user"] == []


def test_doctor_local_only_passes(capsys):
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["dask versions"]["ok"]
    assert checks["interface to use"]["detail"].startswith("lo ")


def test_alloc_charge_appends_the_callers_record_and_names_bad_fields(site, capsys):
    argv = ["alloc", "charge", "laptop", "--kind", "pipeline", "--ref", "4242", "--cores", "2",
            "--start", "1000", "--end", "2800", "--json"]  # fmt: skip
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    [kept] = [r for r in get_ledger().records() if r.ref == "4242"]
    assert (kept.user, kept.allocation, kept.kind) == ("bob", "laptop", "pipeline")
    assert kept.core_hours == shown["core_hours"] == 2 * 1800 / 3600
    with pytest.raises(SystemExit) as bad_kind:
        main([*argv[:4], "batch", *argv[5:]])
    assert bad_kind.value.code == 2
    assert "session, cluster, pipeline" in capsys.readouterr().err.replace("'", "")
    assert main([*argv[:10], "yesterday", *argv[11:]]) == 1
    assert "start='yesterday'" in capsys.readouterr().err


def test_without_a_site_file_alloc_reads_the_hubs_as_up_does(capsys):
    import yaml

    from genesis_lab.hub.launcher import DEFAULT_SITE_FILE

    site = yaml.safe_load(DEFAULT_SITE_FILE.read_text())
    assert main(["alloc", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["description"]) for r in listed] == [
        (a["id"], a.get("description", "")) for a in site["allocations"]]  # fmt: skip
