"""``genesis-lab doctor`` against the real single-node SLURM."""

from __future__ import annotations

import json

import pytest
import yaml

from genesis_lab.cli import main
from genesis_lab.settings import reset_settings

pytestmark = [pytest.mark.slurm]


@pytest.fixture
def site(slurm, tmp_path, monkeypatch):
    def write(interface=None, queue="debug"):
        alloc = {"id": "hpc", "account": "acct", "scheduler": "slurm", "queue": queue}
        if interface:
            alloc["interface"] = interface
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump({"allocations": [alloc]}))
        monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
        reset_settings()

    return write


def test_doctor_finds_controller_node_and_interface(site, capsys):
    site()
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["slurm commands"]["ok"] and checks["slurm controller"]["ok"]
    assert checks["route to 127.0.0.1"]["detail"].startswith("via interface lo")
    assert checks["interface to use"]["detail"] == "lo (127.0.0.1)"


def test_doctor_fails_on_an_interface_the_host_lacks(site, capsys):
    site(interface="ib9")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "'ib9'" in out


def test_doctor_job_reaches_back_from_the_compute_node(site, capsys):
    site()
    assert main(["doctor", "--job", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["compute node -> this host"]["detail"].startswith("a job connected to 127.0.0.1:")
    assert checks["worker versions"]["ok"]


def test_doctor_job_names_a_bad_partition(site, capsys):
    site(queue="nosuchpartition")
    assert main(["doctor", "--job", "--json"]) == 1
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert not checks["job on a compute node"]["ok"]
    assert "invalid partition" in checks["job on a compute node"]["detail"].lower()
