"""compute.cluster() on a real single-node SLURM: account and partition, sweeps, orphans, faults."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import yaml

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(240)]

SIM = "biotechnology/michaelis-menten"


@pytest.fixture
def hpc_allocation(slurm, genesis_home, tmp_path, monkeypatch):
    """A site file with a SLURM allocation on the test SLURM's ``batch`` partition; alice's session."""
    from genesis_lab.settings import reset_settings

    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "allocations": [
                    {
                        "id": "fusion-hpc",
                        "account": "fes-2026",
                        "scheduler": "slurm",
                        "queue": "batch",
                        "walltime": "00:10:00",
                        "cores": 1,
                        "memory": "1GB",
                        "max_jobs": 3,
                        "budget_core_hours": 50,
                        "members": ["alice"],
                    }
                ]
            }
        )
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    monkeypatch.setenv("GENESIS_ALLOCATION", "fusion-hpc")
    monkeypatch.setenv("GENESIS_USER", "alice")
    reset_settings()
    return site


MM_SPACE = {"s0": (0.5, 20.0, 24), "vmax": [1.0, 2.0]}
# exact diagonalisation of 11 spins takes ~0.2 s a point here: slow enough to cancel a job mid-sweep
TFIM = "quantum-information/transverse-field-ising"
TFIM_SPACE = {"n_sites": 11, "coupling": [1.0, 1.5], "field": (0.2, 2.0, 12)}


def test_cluster_charges_account_and_partition_and_sweep_matches_local(slurm, hpc_allocation):
    import xarray as xr

    from genesis_lab.compute import cluster, connect, get_ledger, used_core_hours
    from genesis_lab.simulators.sweep import sweep

    local = sweep(SIM, MM_SPACE, seed=7, progress=False, cache=False)
    with cluster() as c:
        assert type(c).__name__ == "GenesisSLURMCluster"
        c.scale(jobs=2)
        with connect(c) as client:
            client.wait_for_workers(2, timeout=90)
            jobs = slurm.squeue(name=c.genesis_job_name)
            assert len(jobs) == 2, jobs
            assert {j["account"] for j in jobs} == {"fes-2026"}
            assert {j["partition"] for j in jobs} == {"batch"}
            script = c.job_script()
            assert "#SBATCH -A fes-2026" in script and "#SBATCH -p batch" in script
            assert "--lifetime 540s" in script and "#SBATCH -t 00:10:00" in script
            assert "--interface lo" in script  # found from the node's address, not configured

            remote = sweep(SIM, MM_SPACE, seed=7, cluster=client, progress=False, cache=False)
            assert len(client.nthreads()) == 2  # counted without scheduler_info()["workers"]
            ran_on = {w for w, n in client.run(lambda: 1).items() if n == 1}
            assert len(ran_on) == 2
        name = c.genesis_job_name
    xr.testing.assert_allclose(remote, local)
    assert (remote.sizes["s0"], remote.sizes["vmax"]) == (24, 2)
    assert slurm.wait_no_jobs(name=name, timeout=30) == []
    # two one-core worker jobs were charged to the allocation, to alice: from SLURM's accounting
    # when the test SLURM runs slurmdbd, else from the queue's start of each job until its worker
    # left
    recs = [r for r in get_ledger().records("fusion-hpc") if r.kind == "cluster"]
    assert len(recs) == 2 and {r.user for r in recs} == {"alice"}
    assert {r.source for r in recs} == {"sacct" if slurm.accounting else "job-lifetime"}
    assert all(r.cores == 1 and r.core_hours > 0 for r in recs), recs
    assert {r.ref for r in recs} == {j["id"] for j in jobs}
    assert used_core_hours("fusion-hpc", "alice") == pytest.approx(sum(r.core_hours for r in recs))


def test_sweep_survives_scancel_of_a_worker_job(slurm, hpc_allocation):
    import xarray as xr

    from genesis_lab.compute import cluster, connect
    from genesis_lab.simulators.sweep import sweep

    local = sweep(TFIM, TFIM_SPACE, progress=False, cache=False)
    with cluster(jobs=2) as c, connect(c) as client:
        client.wait_for_workers(2, timeout=90)
        out: dict = {}
        run = threading.Thread(
            target=lambda: out.update(
                ds=sweep(
                    TFIM, TFIM_SPACE, cluster=client, chunk_size=1, progress=False, cache=False
                )
            )
        )
        run.start()
        deadline = time.monotonic() + 60
        while sum(ts.state == "memory" for ts in list(c.scheduler.tasks.values())) < 2:
            assert time.monotonic() < deadline, "the sweep did not start"
            time.sleep(0.05)
        victim = slurm.squeue(name=c.genesis_job_name, states="RUNNING")[0]["id"]
        slurm.run("scancel", victim)
        done_at_cancel = sum(ts.state == "memory" for ts in list(c.scheduler.tasks.values()))
        run.join(120)
        assert not run.is_alive()
        running = {j["id"] for j in slurm.squeue(name=c.genesis_job_name, states="RUNNING")}
        assert victim not in running
        assert done_at_cancel < 24, "the job was cancelled after the sweep had finished"
        assert len(client.nthreads()) == 1  # the cancelled job's worker is gone
    remote = out["ds"]
    assert int(remote["energy_per_site"].notnull().sum()) == 24
    xr.testing.assert_allclose(remote, local)


def test_no_orphan_jobs_after_the_kernel_is_killed(slurm, hpc_allocation):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=dict(os.environ))
    try:
        outputs: list[str] = []
        reply = kc.execute_interactive(
            "from genesis_lab.compute import cluster\n"
            "c = cluster()\n"
            "c.scale(jobs=2)\n"
            "print('JOBNAME', c.genesis_job_name)\n",
            timeout=60,
            output_hook=lambda msg: _collect(msg, outputs),
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        name = next(t.split()[1] for t in outputs if t.startswith("JOBNAME"))
        assert len(slurm.wait_running(2, name=name, timeout=60)) == 2
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        t0 = time.monotonic()
        # the watchdog polls every second; without it the workers would only give up after
        # their 60 s death-timeout, so a tight bound tells the two apart
        left = slurm.wait_no_jobs(name=name, timeout=20)
        assert left == [], f"jobs left {time.monotonic() - t0:.0f} s after the kernel died: {left}"
        # the watchdog charged the jobs it cancelled: from sacct with accounting, else from
        # their start in squeue
        recs = _wait_records("fusion-hpc", 2)
        assert {r.source for r in recs} == {"sacct" if slurm.accounting else "job-lifetime"}
        assert {r.user for r in recs} == {"alice"}
        assert all(r.cores == 1 and r.core_hours > 0 for r in recs), recs
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_jobs_close_when_the_kernel_shuts_down(slurm, hpc_allocation):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=dict(os.environ))
    try:
        outputs: list[str] = []
        reply = kc.execute_interactive(
            "import genesis_lab as gl\n"
            "c = gl.cluster(jobs=1)\n"
            "print('JOBNAME', c.genesis_job_name)\n",
            timeout=60,
            output_hook=lambda msg: _collect(msg, outputs),
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        name = next(t.split()[1] for t in outputs if t.startswith("JOBNAME"))
        assert len(slurm.wait_running(1, name=name, timeout=60)) == 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)  # a polite shutdown: the kernel's atexit closes the cluster
    assert slurm.wait_no_jobs(name=name, timeout=20) == []


def _wait_records(allocation: str, count: int, timeout: float = 15) -> list:
    from genesis_lab.compute import get_ledger

    deadline = time.monotonic() + timeout
    while True:
        recs = list(get_ledger().records(allocation))
        if len(recs) >= count or time.monotonic() > deadline:
            return recs
        time.sleep(0.2)


def _collect(msg: dict, outputs: list[str]) -> None:
    if msg["msg_type"] == "stream":
        outputs.extend(msg["content"]["text"].splitlines())


def test_budget_spent_refuses_a_cluster(slurm, hpc_allocation):
    from genesis_lab.compute import cluster, get_ledger
    from genesis_lab.compute.ledger import UsageRecord
    from genesis_lab.errors import AllocationError

    get_ledger().record(
        UsageRecord.from_times(allocation="fusion-hpc", user="bob", kind="session", ref="9",
                               cores=50, start=0, end=3600, source="job-lifetime")
    )  # fmt: skip
    with pytest.raises(AllocationError, match=r"used 50.00 of 50 core-hours"):
        cluster()
    assert slurm.squeue() == [] or all(j["account"] != "fes-2026" for j in slurm.squeue())
