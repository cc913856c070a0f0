"""One site ledger on a real SLURM with real Unix users: two users' sessions and dask workers
charged by the hub and the genesis service, the admin's ``alloc usage`` shows both, and a spent
budget refuses the next cluster and the next session.

The reference is SLURM's accounting: the test SLURM runs slurmdbd with MariaDB (always under
CI=true), so every job's ``CPUTimeRAW`` comes from ``sacct``, the ledger's records of those jobs
must say ``source: sacct`` and the yearly report's sacct section must hold the account's real
total. Where the accounting packages are missing (outside CI) the reference is SLURM's job
records instead (``scontrol show job``: NumCPUs, StartTime, EndTime, kept for ``MinJobAge``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from fixtures.hub import _execute, run_async
from fixtures.slurm import unix_user
from realparts import IN_CI, require

pytestmark = [pytest.mark.hub, pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(420)]

ALLOCATION = "ledger-slurm"  # in tests/fixtures/hub.py, members glled-ann and glled-bob
ACCOUNT = "phys-acct"  # its SLURM account there (other allocations share it)
SACCT_SLACK = 3.0  # core-seconds per job between a charge and sacct's CPUTimeRAW
BUDGET = 0.006  # its budget there: above one worker job, below what two users spend here
START_CLUSTER = """
import time
from distributed import Client
from genesis_lab.compute import cluster
c = cluster(jobs=1, cores=1, memory="1GB")
client = Client(c)
client.wait_for_workers(1, timeout=90)
print("SUM", client.submit(sum, [1, 2]).result())
print("JOBS", ",".join(str(j.job_id) for j in c.workers.values()))
"""
CLOSE_CLUSTER = "client.close(); c.close(); print('CLOSED')"
AGAIN = """
from genesis_lab.errors import AllocationError
try:
    cluster(jobs=1, cores=1, memory="1GB")
except AllocationError as exc:
    print("REFUSED", exc)
"""


def start_kernel(hub, name: str) -> str:
    r = requests.post(f"{hub.url}/user/{name}/api/kernels", json={"name": "python3"},
                      headers={"Authorization": f"token {hub.user_token(name)}"}, timeout=60)  # fmt: skip
    r.raise_for_status()
    return r.json()["id"]


def run(hub, name: str, kernel: str, code: str, timeout: float = 150) -> str:
    return run_async(_execute, hub.url, name, kernel, hub.user_token(name), code, timeout)


def job_ids(out: str) -> list[str]:
    line = next(x for x in out.splitlines() if x.startswith("JOBS "))
    return line.split()[1].split(",")


def job_record(slurm, job_id: str) -> dict[str, str]:
    out = slurm.run("scontrol", "show", "job", "-o", job_id)
    return dict(part.split("=", 1) for part in out.split() if "=" in part)


def sacct_job(slurm, job_id: str) -> dict[str, str]:
    out = slurm.run("sacct", "-n", "-P", "-X", "-j", job_id,
                    "-o", "JobID,Account,User,State,AllocCPUS,ElapsedRaw,CPUTimeRAW")  # fmt: skip
    keys = ("JobID", "Account", "User", "State", "AllocCPUS", "ElapsedRaw", "CPUTimeRAW")
    return dict(zip(keys, out.strip().split("|"), strict=False)) if out.strip() else {}


def slurm_core_hours(slurm, job_id: str) -> float:
    """CPUTimeRAW / 3600 of an ended job from ``sacct`` (with accounting); else NumCPUs x
    (EndTime - StartTime) from its job record, read before SLURM forgets it (``MinJobAge``)."""
    if slurm.accounting:

        def accounted() -> dict[str, str] | None:
            rec = sacct_job(slurm, job_id)
            state = rec.get("State", "PENDING").split()[0]
            return rec if state not in ("PENDING", "RUNNING", "COMPLETING") else None

        return int(wait_for(f"job {job_id} ended in sacct", accounted, 30)["CPUTimeRAW"]) / 3600

    def ended() -> dict[str, str] | None:
        rec = job_record(slurm, job_id)
        return rec if rec.get("JobState") not in ("RUNNING", "COMPLETING", "PENDING") else None

    rec = wait_for(f"job {job_id} ended", ended, 30)
    start = dt.datetime.fromisoformat(rec["StartTime"]).timestamp()
    end = dt.datetime.fromisoformat(rec["EndTime"]).timestamp()
    return int(rec["NumCPUs"]) * (end - start) / 3600


def ledger(hub) -> list[dict]:
    path = hub.base / "home" / "state" / "service" / "ledger" / "usage.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def wait_for(what: str, cond, timeout: float = 60, detail=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = cond()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"never happened: {what}\n{detail()}")


def alloc_usage(hub, token: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    env.update({"GENESIS_SITE_FILE": str(hub.site_file), "GENESIS_HOME": str(hub.base / "home"),
                "GENESIS_SERVICE_URL": f"{hub.url}/services/genesis/",
                "JUPYTERHUB_API_TOKEN": token})  # fmt: skip
    genesis = Path(sys.executable).parent / "genesis-lab"
    out = subprocess.run([str(genesis), "alloc", "usage", ALLOCATION, "--json"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(autouse=True)
def _no_jobs_left_behind(slurm):
    """A failed run must not leave its users' jobs in the queue of the tests that follow."""
    yield
    for user in ("glled-ann", "glled-bob"):
        slurm.run("scancel", "-u", user, check=False)


def test_two_users_are_charged_in_one_site_ledger_and_a_spent_budget_refuses(slurm_hub, slurm):
    hub = slurm_hub
    t0 = time.monotonic()

    def mark(what: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f} s] {what}")

    if IN_CI:  # the reference is SLURM's accounting: under CI it must be there
        require(slurm.accounting, "SLURM accounting (slurmdbd + MariaDB)",
                "apt-get install slurmdbd mariadb-server (`make system`, as root)")  # fmt: skip
    ann, bob = (hub.new_user(unix_user(n)) for n in ("glled-ann", "glled-bob"))
    if slurm.accounting:
        for name in (ann, bob):
            slurm.add_association(ACCOUNT, name)
    request = {"allocation": ALLOCATION, "cores": "1", "memory": "1GB"}
    for name in (ann, bob):
        r = hub.spawn(name, request)
        assert r.status_code in (201, 202), r.text + hub.log()[-3000:]
    for name in (ann, bob):
        hub.wait_ready(name, timeout=120)
    mark("sessions ready")
    sessions = {name: slurm.squeue(name=f"genesis-session-{name}")[0]["id"] for name in (ann, bob)}

    # nothing is charged yet (sessions are charged when they end): both clusters may start;
    # ann closes hers; bob leaves his running and his session is stopped under it
    k_ann, k_bob = start_kernel(hub, ann), start_kernel(hub, bob)
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda a: run(hub, *a), [(ann, k_ann, START_CLUSTER + CLOSE_CLUSTER),
                                                      (bob, k_bob, START_CLUSTER)]))  # fmt: skip
    assert "SUM 3" in outs[0] and "CLOSED" in outs[0], outs[0]
    assert "SUM 3" in outs[1], outs[1]
    mark("first clusters ran")
    workers = {ann: job_ids(outs[0]), bob: job_ids(outs[1])}
    slurm_ch = {workers[ann][0]: slurm_core_hours(slurm, workers[ann][0])}
    assert slurm.squeue(states="RUNNING") and workers[bob][0] in {
        j["id"] for j in slurm.squeue(states="RUNNING")}  # fmt: skip
    [live] = alloc_usage(hub, hub.user_token(bob))["allocations"]  # his jobs run, uncharged
    assert live["running_core_hours"] >= live["mine_running_core_hours"] > 0, live
    hub.stop_server(bob)
    for job in (sessions[bob], workers[bob][0]):
        slurm_ch[job] = slurm_core_hours(slurm, job)

    def charged(name: str, kind: str, ref: str) -> list[dict]:
        return [r for r in ledger(hub)
                if (r["user"], r["kind"], r["ref"]) == (name, kind, ref)]  # fmt: skip

    for name in (ann, bob):
        # bob's: his session's watchdog cancels it, waits for accounting (up to 15 s), charges
        wait_for(f"{name}'s worker job charged",
                 lambda n=name: charged(n, "cluster", workers[n][0]), 60)  # fmt: skip
    wait_for(
        "bob's session charged",
        lambda: charged(bob, "session", sessions[bob]),
        30,
        lambda: f"{ledger(hub)}\n{hub.log()[-6000:]}",
    )
    wait_for("bob's worker job cancelled with his session",
             lambda: workers[bob][0] not in {j["id"] for j in slurm.squeue()}, 30)  # fmt: skip

    mark("bob stopped, charges seen")
    # the admin (hub token) sees both users; ann sees only herself, and the balance
    admin = alloc_usage(hub, hub.ensure_admin_token())
    rows = {r["user"]: r["core_hours"] for r in admin["by_user"]}
    assert set(rows) == {ann, bob}
    for name in (ann, bob):
        assert rows[name] == pytest.approx(
            sum(r["core_hours"] for r in ledger(hub) if r["user"] == name), abs=1e-6
        )
    mine = alloc_usage(hub, hub.user_token(ann))
    assert [r["user"] for r in mine["by_user"]] == [ann]
    used = sum(r["core_hours"] for r in ledger(hub) if r["allocation"] == ALLOCATION)
    assert mine["allocations"][0]["used_core_hours"] == pytest.approx(used, abs=1e-6)
    assert mine["allocations"][0]["remaining_core_hours"] == pytest.approx(BUDGET - used, abs=1e-6)
    mark("alloc usage read")

    if used < BUDGET:  # short jobs on a fast machine: ann charges a pipeline run to spend it
        now = time.time()
        r = requests.post(f"{hub.url}/services/genesis/api/usage", timeout=30,
                          headers={"Authorization": f"token {hub.user_token(ann)}"},
                          json={"allocation": ALLOCATION, "kind": "pipeline", "ref": "top-up",
                                "cores": 1, "start": now - (BUDGET - used) * 3600 - 5,
                                "end": now, "source": "job-lifetime"})  # fmt: skip
        assert r.status_code == 201, r.text
        used = sum(r["core_hours"] for r in ledger(hub) if r["allocation"] == ALLOCATION)
    # the budget was above the use when both clusters started; the charges since spent it
    assert used >= BUDGET, f"the test's premise: {used} core-hours used, budget {BUDGET}"
    out = run(hub, ann, k_ann, AGAIN)
    refusal = next((x for x in out.splitlines() if x.startswith("REFUSED")), out)
    assert f"budget of allocation '{ALLOCATION}' is spent" in refusal, out
    assert f"of {BUDGET:g} core-hours" in refusal
    mark("cluster refused")
    hub.stop_server(ann)
    slurm_ch[sessions[ann]] = slurm_core_hours(slurm, sessions[ann])
    wait_for("ann's session charged", lambda: charged(ann, "session", sessions[ann]), 30)
    r = hub.spawn(bob, request)
    assert r.status_code == 403, r.text
    assert f"budget of allocation '{ALLOCATION}' is spent" in r.text

    mark("session refused")
    # the ledger beside SLURM's accounting (or, without it, its job records)
    report = []
    for name in (ann, bob):
        for kind, jobs in (("session", [sessions[name]]), ("cluster", workers[name])):
            for job in jobs:
                recs = charged(name, kind, job)
                mine_ch = sum(r["core_hours"] for r in recs)
                how = [r["source"] for r in recs]
                report.append((name, kind, job, mine_ch, slurm_ch[job], how))
    reference = "sacct CPUTimeRAW/3600" if slurm.accounting else "scontrol NumCPUs x elapsed"
    for rec in ledger(hub):
        print(rec)
    print(f"\nuser kind job sources ledger-core-h reference-core-h ({reference})")
    for row in report:
        print(" ".join(map(str, row[:3])), row[5], f"{row[3]:.6f} {row[4]:.6f}")
    per_user = {n: (sum(r[3] for r in report if r[0] == n), sum(r[4] for r in report if r[0] == n))
                for n in (ann, bob)}  # fmt: skip
    for name, (mine_ch, ref_ch) in per_user.items():
        print(f"{name}: ledger {mine_ch:.6f} core-h, {reference} {ref_ch:.6f} core-h")
    if not slurm.accounting:
        for _, _, _, mine_ch, ref_ch, _ in report:
            assert mine_ch > 0, (report, ledger(hub))
            assert abs(mine_ch - ref_ch) <= max(0.35 * ref_ch, 3 / 3600), (report, ledger(hub))
        return
    # every job charged, in all, what sacct says it used (to within SACCT_SLACK core-seconds):
    # from accounting as it ends, or by the service's accounting sync, which charges a job nobody
    # reported and tops up one reported short (a session's watchdog that could not wait for
    # accounting charges the job's lifetime); never two accounting records for one job
    for name, kind, job, mine_ch, ref_ch, sources in report:
        assert sources and sources.count("sacct") <= 1, (name, kind, job, ledger(hub))
        assert abs(mine_ch - ref_ch) * 3600 <= SACCT_SLACK, (report, ledger(hub))
    for name, (mine_ch, ref_ch) in per_user.items():
        assert abs(mine_ch - ref_ch) * 3600 <= SACCT_SLACK * 2, (name, per_user)
    for job, ref_ch in slurm_ch.items():
        row = sacct_job(slurm, job)
        assert row["Account"] == ACCOUNT and ref_ch > 0, row
    check_report_sacct(hub, slurm, sum(slurm_ch.values()))


def check_report_sacct(hub, slurm, ours: float) -> None:
    """The yearly report's sacct section holds the account's real total for today: this test's
    jobs and any others of the account, summed here as AllocCPUS x ElapsedRaw."""
    today = dt.date.today().isoformat()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESIS_", "JUPYTERHUB_"))}
    env.update({"GENESIS_SITE_FILE": str(hub.site_file), "GENESIS_HOME": str(hub.base / "home")})
    genesis = Path(sys.executable).parent / "genesis-lab"
    before = account_total(slurm, today)
    out = subprocess.run([str(genesis), "report", "--from", today, "--to", today, "--format",
                          "json"], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    after = account_total(slurm, today)
    assert out.returncode == 0, out.stderr
    totals = json.loads(out.stdout)["integration"]["sacct_core_hours_by_account"]
    print(f"report: sacct {ACCOUNT} {totals[ACCOUNT]:.6f} core-h (this test's jobs {ours:.6f})")
    assert totals[ACCOUNT] >= ours - 1e-6
    assert before - 1e-6 <= totals[ACCOUNT] <= after + 1e-6, (before, totals, after)


def account_total(slurm, day: str) -> float:
    end = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    out = slurm.run("sacct", "-a", "-X", "-n", "-P", "-A", ACCOUNT, "-S", day, "-E", end,
                    "-o", "AllocCPUS,ElapsedRaw")  # fmt: skip
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    return sum(int(c) * int(e) for c, e in rows if c.isdigit() and e.isdigit()) / 3600
