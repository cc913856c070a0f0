"""The cluster factory without a batch scheduler: job scripts, refusals, LocalCluster, usage."""

from __future__ import annotations

import pytest
import yaml

from genesis_lab.compute import Allocation, cluster, connect, get_ledger, job_script
from genesis_lab.compute.clusters import check_versions, lifetime_args
from genesis_lab.compute.commands import run_command
from genesis_lab.errors import AllocationError, ComputeError, SchedulerError
from genesis_lab.settings import reset_settings

HPC = {
    "id": "fusion-hpc", "account": "fes-2026", "scheduler": "slurm", "queue": "batch",
    "walltime": "01:00:00", "cores": 2, "memory": "2GB", "max_jobs": 2, "interface": "lo",
    "budget_core_hours": 10, "members": ["alice"],
}  # fmt: skip


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"allocations": [
        HPC,
        {**HPC, "id": "pbs-alloc", "scheduler": "pbs"},
        {"id": "workstation", "scheduler": "local", "cores": 2, "memory": "2GB",
         "members": ["alice"], "budget_core_hours": 1},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    monkeypatch.setenv("GENESIS_USER", "alice")
    reset_settings()
    return path


def test_job_script_carries_account_partition_walltime_and_lifetime(site, genesis_home):
    script = job_script("fusion-hpc")
    assert "#SBATCH -A fes-2026" in script
    assert "#SBATCH -p batch" in script
    assert "#SBATCH -t 01:00:00" in script
    assert "#SBATCH --cpus-per-task=2" in script
    assert "--lifetime 3240s --lifetime-stagger 180s" in script
    assert "--interface lo" in script
    assert f"#SBATCH -o {genesis_home}/state/job-logs/gl-fusion-hpc-" in script


def test_job_script_overrides_and_pbs(site):
    script = job_script("fusion-hpc", cores=1, walltime="00:30:00")
    assert "--cpus-per-task=1" in script and "#SBATCH -t 00:30:00" in script
    assert "--lifetime 1620s" in script
    pbs = job_script("pbs-alloc")
    assert "#PBS -A fes-2026" in pbs and "#PBS -q batch" in pbs
    assert "#PBS -l walltime=01:00:00" in pbs


def test_job_script_refuses_what_cluster_would_refuse(site, monkeypatch):
    with pytest.raises(AllocationError, match="cores=3, the most per job is 2"):
        job_script("fusion-hpc", cores=3)
    with pytest.raises(ComputeError, match=r"'queue'.*allowed:"):
        job_script("fusion-hpc", queue="other")
    with pytest.raises(ComputeError, match="starts a LocalCluster"):
        job_script("workstation")
    monkeypatch.setenv("GENESIS_USER", "mallory")
    reset_settings()
    with pytest.raises(AllocationError, match="not a member"):
        job_script("fusion-hpc")


@pytest.mark.parametrize(
    ("walltime", "lifetime", "stagger"),
    [(3600, 3240, 180), (600, 540, 30), (120, 60, 30), (60, 30, 15), (86400, 77760, 4320)],
)
def test_workers_leave_before_the_walltime(walltime, lifetime, stagger):
    args = lifetime_args(walltime, {"lifetime_margin_fraction": 0.1, "lifetime_margin_min": 60})
    assert args == ["--lifetime", f"{lifetime}s", "--lifetime-stagger", f"{stagger}s"]
    assert lifetime + stagger < walltime


def test_no_allocation_gives_a_local_cluster_on_loopback():
    with cluster(n_workers=1, processes=False) as c:
        assert type(c).__name__ == "LocalCluster"
        assert c.scheduler_address.startswith("inproc://")
        with connect(c) as client:
            assert client.submit(sum, [1, 2, 3]).result() == 6
            assert "scheduler" in check_versions(client)


def test_local_allocation_is_charged_from_worker_lifetimes(site):
    with cluster(allocation="workstation", n_workers=2, processes=False) as c, connect(c) as client:
        client.wait_for_workers(2, timeout=30)
        assert client.submit(pow, 2, 10).result() == 1024
    recs = list(get_ledger().records("workstation"))
    assert len(recs) == 2
    assert {(r.user, r.kind, r.cores, r.source) for r in recs} == {
        ("alice", "cluster", 1, "worker-lifetime")}  # fmt: skip
    assert all(r.core_hours > 0 for r in recs)


def test_local_allocation_refuses_more_cores_than_it_has(site):
    with pytest.raises(AllocationError, match="cores=3"):
        cluster(allocation="workstation", n_workers=3)


def test_slurm_cluster_caps_jobs_at_the_allocation(site):
    # nothing is submitted: the cap is checked before any job
    with cluster(allocation="fusion-hpc") as c:
        assert c.allocation.id == "fusion-hpc"
        with pytest.raises(AllocationError, match="at most 2 jobs"):
            c.scale(jobs=3)
        with pytest.raises(AllocationError, match="maximum_jobs=5"):
            c.adapt(maximum_jobs=5)
        watchdog = c._watchdog
        assert watchdog.poll() is None  # a watchdog guards the jobs while the cluster lives
    assert watchdog.poll() is not None  # and stops when the cluster closes


class _MismatchedClient:
    """Stands in for a client whose workers run another distributed (distributed's own error)."""

    def get_versions(self, check=False):
        raise ValueError("Mismatched versions found\n| distributed | 2026.8.0 | 2025.1.0 |")


def test_version_mismatch_is_a_compute_error():
    with pytest.raises(ComputeError, match=r"differ(.|\n)*distributed \| 2026.8.0 \| 2025.1.0"):
        check_versions(_MismatchedClient())


def test_run_command_reports_command_exit_code_and_output():
    assert run_command(["echo", "hi"]).stdout == "hi\n"
    with pytest.raises(SchedulerError) as err:
        run_command(["sh", "-c", "echo out; echo oops >&2; exit 3"])
    e = err.value
    assert (e.command[0], e.returncode, e.stdout, e.stderr) == ("sh", 3, "out\n", "oops\n")
    assert "exit code 3" in str(e) and "oops" in str(e)
    with pytest.raises(SchedulerError, match="not installed"):
        run_command(["no-such-scheduler-command"])
    with pytest.raises(SchedulerError, match="did not finish within"):
        run_command(["sleep", "5"], timeout=0.2)


def test_allocation_model_is_frozen():
    a = Allocation.model_validate(HPC)
    with pytest.raises(ValueError):
        a.account = "other"  # type: ignore[misc]


def test_local_cluster_with_processes_listens_on_loopback_only():
    with cluster(n_workers=1) as c:
        assert c.scheduler_address.startswith("tcp://127.0.0.1:")
        assert c.scheduler.services["dashboard"].port != 8787


def test_cluster_status_counts_workers_for_sync_and_async_clients():
    import asyncio

    from distributed import Client, LocalCluster

    from genesis_lab.compute import cluster_status

    with cluster(n_workers=2, processes=False) as c, Client(c) as client:
        assert cluster_status(c)["workers"] == 2
        assert cluster_status(client)["workers"] == 2
        assert cluster_status(c)["scheduler"] == "local"

    async def main():
        async with (
            LocalCluster(
                n_workers=2, processes=False, asynchronous=True, dashboard_address=":0"
            ) as lc,
            Client(lc, asynchronous=True) as aclient,
        ):
            await aclient.wait_for_workers(2)
            assert aclient.scheduler_info()["workers"] == {}  # the 2026.7 change this works around
            async with Client(lc.scheduler_address, asynchronous=True) as by_address:
                return cluster_status(aclient)["workers"], cluster_status(by_address)["workers"]

    assert asyncio.run(main()) == (2, 2)


def test_cluster_status_of_an_allocation_cluster(site):
    from genesis_lab.compute import cluster_status

    with cluster(allocation="fusion-hpc") as c:
        st = cluster_status(c)
    assert st["allocation"] == "fusion-hpc" and st["scheduler"] == "slurm"
    assert st["job_name"].startswith("gl-fusion-hpc-") and st["jobs"] == 0 and st["workers"] == 0
    assert (st["used_core_hours"], st["budget_core_hours"]) == (0.0, 10)


@pytest.mark.parametrize(("alloc", "header"), [("pbs-alloc", "#PBS -A fes-2026")])
def test_other_schedulers_build_their_dask_jobqueue_cluster(site, alloc, header):
    with cluster(allocation=alloc) as c:
        assert type(c).__name__ == "GenesisPBSCluster"
        assert header in c.job_script()
        assert c.scheduler_address.startswith("tcp://127.0.0.1:")  # the allocation's `lo`


def test_worker_jobs_are_named_for_the_session_job_they_run_under(site, monkeypatch):
    # the hub finds a stopped session's leftover worker jobs by this name
    from genesis_lab.compute.jobnames import allocation_of, session_job_id, session_of

    for var in ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID"):
        monkeypatch.delenv(var, raising=False)
    outside = job_script("fusion-hpc")
    assert "#SBATCH -J gl-fusion-hpc-" in outside and "-s" not in outside.split("-J ")[1].split()[0]
    monkeypatch.setenv("SLURM_JOB_ID", "4711")
    name = job_script("fusion-hpc").split("#SBATCH -J ")[1].split()[0]
    assert name.startswith("gl-fusion-hpc-") and session_of(name) == "4711"
    assert allocation_of(name) == "fusion-hpc" and allocation_of("gl-fusion-hpc-x") is None
    monkeypatch.setenv("SLURM_JOB_ID", "not-a-job")
    monkeypatch.setenv("PBS_JOBID", "812.pbs-server")
    assert session_job_id() == "812"
    assert session_of("genesis-session-alice") is None
    assert session_of("gl-fusion-hpc-0a1b2c3d") is None
