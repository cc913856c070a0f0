"""Allocations from the site file: validation messages, membership, budget and limits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from genesis_lab.compute import (
    Allocation,
    allocations_for,
    check_allocation,
    get_allocation,
    get_allocations,
    session_environment,
)
from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.errors import AllocationError, SettingsError
from genesis_lab.settings import reset_settings

HPC = {
    "id": "fusion-hpc", "account": "fes-2026", "scheduler": "slurm", "queue": "batch",
    "walltime": "02:00:00", "cores": 4, "memory": "8GB", "budget_core_hours": 10,
    "members": ["alice", "bob"],
}  # fmt: skip
OPEN = {"id": "laptop", "scheduler": "local", "members": "*"}


@pytest.fixture
def site(tmp_path, monkeypatch):
    def write(*allocations):
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump({"allocations": list(allocations)}))
        monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
        reset_settings()
        return path

    return write


def test_allocations_are_read_from_the_site_file(site):
    site(HPC, OPEN)
    allocs = get_allocations()
    assert list(allocs) == ["fusion-hpc", "laptop"]
    a = allocs["fusion-hpc"]
    assert (a.account, a.scheduler, a.queue, a.cores, a.memory_bytes) == (
        "fes-2026", "slurm", "batch", 4, 8_000_000_000)  # fmt: skip
    assert a.walltime_seconds == 7200
    assert allocs["laptop"].members == ("*",)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"scheduler": "condor"}, "scheduler", ["slurm", "pbs", "lsf", "local"]),
        ({"walltime": "2 hours"}, "walltime", ["HH:MM:SS"]),
        ({"memory": "lots"}, "memory", ["4GB"]),
        ({"cores": 0}, "cores", ["greater than or equal to 1"]),
        ({"account": "fes; rm -rf /"}, "account", ["letters, digits"]),
        ({"colour": "red"}, "colour", ["Extra inputs are not permitted"]),
        ({"account": None}, "account", ["required for scheduler 'slurm'"]),
        (
            {"job_extra_directives": ["--qos=x\n#SBATCH --x"]},
            "job_extra_directives",
            ["not allowed"],
        ),
    ],
)
def test_invalid_allocation_names_allocation_field_and_allowed_values(site, change, field, words):
    site({**HPC, **change})
    with pytest.raises(SettingsError) as err:
        get_allocations()
    message = str(err.value)
    assert "'fusion-hpc'" in message and field in message
    for w in words:
        assert w in message


def test_duplicate_ids_are_refused(site):
    site(HPC, HPC)
    with pytest.raises(SettingsError, match="appears twice"):
        get_allocations()


def test_session_allocation_and_unknown_ids(site, monkeypatch):
    site(HPC, OPEN)
    assert get_allocation() is None
    monkeypatch.setenv("GENESIS_ALLOCATION", "laptop")
    reset_settings()
    assert get_allocation().id == "laptop"
    with pytest.raises(AllocationError, match="fusion-hpc, laptop"):
        get_allocation("fusion")


def test_allocations_for_a_user(site):
    site(HPC, OPEN)
    assert [a.id for a in allocations_for("alice")] == ["fusion-hpc", "laptop"]
    assert [a.id for a in allocations_for("mallory")] == ["laptop"]


def test_check_refuses_non_members_with_a_reason():
    a = Allocation.model_validate(HPC)
    check_allocation(a, "alice")
    with pytest.raises(
        AllocationError, match="'mallory' is not a member of allocation 'fusion-hpc'"
    ):
        check_allocation(a, "mallory")


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ({"cores": 5}, "cores=5, the most per job is 4"),
        ({"memory": "9GB"}, "memory=9GB, the most per job is 8GB"),
        ({"walltime": "02:00:01"}, "walltime=02:00:01, the longest job is 02:00:00"),
    ],
)
def test_check_refuses_requests_beyond_the_limits(request_, words):
    a = Allocation.model_validate(HPC)
    with pytest.raises(AllocationError, match="beyond the limits") as err:
        check_allocation(a, "alice", **request_)
    assert words in str(err.value)
    check_allocation(a, "alice", cores=4, memory="8GB", walltime="02:00:00")


def test_check_refuses_a_spent_budget_from_the_ledger():
    a = Allocation.model_validate(HPC)
    ledger = get_ledger()
    ledger.record(UsageRecord.from_times(allocation="fusion-hpc", user="bob", kind="cluster",
                  ref="1", cores=4, start=0, end=2 * 3600, source="worker-lifetime"))  # fmt: skip
    check_allocation(a, "alice")  # 8 of 10 core-hours used
    ledger.record(UsageRecord.from_times(allocation="fusion-hpc", user="alice", kind="session",
                  ref="2", cores=2, start=0, end=3600, source="job-lifetime"))  # fmt: skip
    with pytest.raises(AllocationError, match=r"budget .* is spent: used 10.00 of 10 core-hours"):
        check_allocation(a, "alice")


def test_session_environment_configures_dask_jobqueue_with_no_arguments():
    env = session_environment(Allocation.model_validate(HPC))
    assert env["GENESIS_ALLOCATION"] == "fusion-hpc"
    assert env["DASK_JOBQUEUE__SLURM__ACCOUNT"] == "fes-2026"
    assert env["DASK_JOBQUEUE__SLURM__QUEUE"] == "batch"
    assert env["DASK_JOBQUEUE__SLURM__WALLTIME"] == "02:00:00"
    # a plain dask-jobqueue job in a session with this environment charges the allocation
    code = (
        "from dask_jobqueue.slurm import SLURMJob\n"
        "print(SLURMJob(scheduler='tcp://h:1', name='w').job_script())"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "#SBATCH -A fes-2026" in out and "#SBATCH -p batch" in out
    assert "#SBATCH -t 02:00:00" in out and "--cpus-per-task=4" in out


def test_session_environment_of_lsf_local_and_none():
    lsf = Allocation.model_validate({**HPC, "scheduler": "lsf"})
    assert session_environment(lsf)["DASK_JOBQUEUE__LSF__PROJECT"] == "fes-2026"
    assert session_environment(Allocation.model_validate(OPEN)) == {"GENESIS_ALLOCATION": "laptop"}
    assert session_environment(None) == {}


def test_training_allocation_caps_each_student():
    a = Allocation.model_validate(
        {"id": "course", "scheduler": "local", "training": {"max_core_hours_per_user": 1}}
    )
    get_ledger().record(UsageRecord.from_times(allocation="course", user="alice", kind="session",
                        ref="1", cores=1, start=0, end=3600, source="job-lifetime"))  # fmt: skip
    with pytest.raises(AllocationError, match=r"used 1\.00 of 1 core-hours per student"):
        check_allocation(a, "alice")
    check_allocation(a, "bob")
