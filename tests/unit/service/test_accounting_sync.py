"""The service's accounting sync and the once-per-job charges of ``POST api/usage``, against a
stand-in ``sacct`` (a script on PATH answering from a job table) and a stand-in hub.

Reference figures are computed here from the table: AllocCPUS x ElapsedRaw / 3600.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
from fixtures.net import listen
from fixtures.unix_accounts import stub_accounts
from tornado import httpclient, web

SCOPE = "access:services!service=genesis"
NOW = time.time()


def stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%S")


# JobID, JobName, User, Account, Partition, AllocCPUS, Start, ElapsedRaw, State
JOBS = [
    ("101", "dask-worker", "ada", "p1", "debug", 2, NOW - 500, 300, "COMPLETED"),
    ("102", "genesis-session-ada", "ada", "p1", "debug", 1, NOW - 400, 120, "CANCELLED by 0"),
    ("103", "genesis-ch1", "jupyter-bo", "p1", "batch", 4, NOW - 300, 90, "FAILED"),
    ("104", "dask-worker", "ada", "p1", "debug", 1, NOW - 100, 50, "RUNNING"),
    ("105", "dask-worker", "ada", "p1", "debug", 1, None, 0, "CANCELLED by 0"),
    ("106", "other", "stranger", "p1", "debug", 8, NOW - 200, 60, "COMPLETED"),
    ("107", "my-own", "ada", "p2", "debug", 3, NOW - 200, 60, "COMPLETED"),
    # a cluster's worker job, named for open-p1 (ada-p1 would win the guess: it names her)
    ("108", "gl-open-p1-0a1b2c3d-s102", "ada", "p1", "debug", 2, NOW - 300, 100, "CANCELLED"),
    # a session whose job comment names open-p1 (by the guess, too, ada-p1)
    ("109", "genesis-session-ada", "ada", "p1", "debug", 1, NOW - 250, 40, "CANCELLED by 0"),
]
COMMENTS = {"109": "genesis-allocation=open-p1", "101": "a|comment with the separator"}
SCRIPT = r"""#!/usr/bin/env python3
import json, sys
jobs = json.load(open(sys.argv[0] + ".json"))
args = sys.argv[1:]
open(sys.argv[0] + ".calls", "a").write(json.dumps(args) + "\n")
names = "JobID,JobName,User,Account,Partition,AllocCPUS,Start,End,ElapsedRaw,State,Comment"
names = names.split(",")
fields = [names.index(f) for f in args[args.index("--format") + 1].split(",")]
if "--accounts" in args:
    rows = [j for j in jobs if j[3] == args[args.index("--accounts") + 1]]
else:
    rows = [j for j in jobs if j[0] == args[args.index("--jobs") + 1]]
for j in rows:
    print("|".join(str(j[i]) for i in fields))
"""


@pytest.fixture
def sacct(tmp_path, monkeypatch) -> Path:
    """A stand-in ``sacct`` first on PATH, answering from :data:`JOBS`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sacct"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    rows = []
    for job_id, name, user, acct, part, cores, start, elapsed, state in JOBS:
        start_text = stamp(start) if start is not None else "Unknown"
        end_text = stamp(start + elapsed) if start is not None and state != "RUNNING" else "Unknown"
        rows.append([job_id, name, user, acct, part, cores, start_text, end_text, elapsed, state,
                     COMMENTS.get(job_id, "")])  # fmt: skip
    (bin_dir / "sacct.json").write_text(json.dumps(rows))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


def settings_for(tmp_path):
    from genesis_lab.settings import load_settings

    allocations = [
        {"id": "open-p1", "scheduler": "slurm", "account": "p1", "queue": "debug",
         "members": ["*"]},
        {"id": "ada-p1", "scheduler": "slurm", "account": "p1", "queue": "debug",
         "members": ["ada"]},
        {"id": "batch-p1", "scheduler": "slurm", "account": "p1", "queue": "batch",
         "members": ["*"]},
        {"id": "p2-nobody", "scheduler": "slurm", "account": "p2", "members": ["carol"]},
        {"id": "here", "scheduler": "local", "members": ["*"]},
    ]  # fmt: skip
    return load_settings(home=tmp_path / "home").model_copy(update={"allocations": allocations})


@pytest.fixture
def pwd_stub(monkeypatch):
    """Unix accounts as the hub makes them: ``jupyter-bo`` carries hub user ``bo``."""
    stub_accounts(monkeypatch, {"jupyter-bo": "bo"}, absent=("ada", "stranger"))


def expected() -> dict[str, tuple[str, str, str, float]]:
    """ref -> (allocation, user, kind, core-hours): what the sync must charge, from JOBS."""
    return {
        "101": ("ada-p1", "ada", "cluster", 2 * 300 / 3600),
        "102": ("ada-p1", "ada", "session", 1 * 120 / 3600),
        "103": ("batch-p1", "bo", "pipeline", 4 * 90 / 3600),
        "106": ("open-p1", "stranger", "job", 8 * 60 / 3600),
        "108": ("open-p1", "ada", "cluster", 2 * 100 / 3600),
        "109": ("open-p1", "ada", "session", 1 * 40 / 3600),
    }


def test_the_sync_charges_every_ended_job_once_from_sacct(tmp_path, sacct, pwd_stub) -> None:
    from genesis_lab.compute.ledger import get_ledger
    from genesis_lab.service.accounting_sync import sync_once

    settings = settings_for(tmp_path)
    added = sync_once(settings, now=NOW)
    got = {r.ref: (r.allocation, r.user, r.kind, r.core_hours) for r in added}
    want = expected()
    assert set(got) == set(want)  # not running 104, never-started 105, p2's non-member 107
    for ref, (alloc, user, kind, hours) in want.items():
        assert got[ref][:3] == (alloc, user, kind), ref
        assert got[ref][3] == pytest.approx(hours, abs=1e-6)
    assert {r.source for r in added} == {"sacct"}
    job = next(j for j in JOBS if j[0] == "101")
    rec = next(r for r in added if r.ref == "101")
    assert dt.datetime.fromisoformat(rec.start).timestamp() == pytest.approx(job[6], abs=1)
    # a second pass charges nothing more; the cursor moved and bounds the next query
    assert sync_once(settings, now=NOW + 30) == []
    assert len(list(get_ledger(settings).records())) == len(want)
    cursor = json.loads((get_ledger(settings).path.parent / "accounting-cursor.json").read_text())
    assert cursor["until"] == NOW + 30
    calls = [json.loads(x) for x in Path(str(sacct) + ".calls").read_text().splitlines()]
    last = calls[-1]
    assert last[last.index("--starttime") + 1] == stamp(NOW - 60)  # the previous pass, less 60 s
    assert {c[c.index("--accounts") + 1] for c in calls} == {"p1", "p2"}


def test_a_job_reported_short_is_charged_the_rest_of_sacct_s_figure(
    tmp_path, sacct, pwd_stub
) -> None:
    from genesis_lab.compute.ledger import UsageRecord, get_ledger
    from genesis_lab.service.accounting_sync import sync_once

    settings = settings_for(tmp_path)
    ledger = get_ledger(settings)
    job = {j[0]: j for j in JOBS}

    def report(user: str, ref: str, cores: int, seconds: float) -> None:
        start = job[ref][6]
        ledger.record(UsageRecord.from_times(allocation="open-p1", user=user, kind="cluster",
                                             ref=ref, cores=cores, start=start,
                                             end=start + seconds, source="worker-lifetime"))  # fmt: skip

    report("ada", "101", 1, 10)  # a tampered plugin: 10 core-s of a 600 core-s job
    report("mallory", "101", 2, 250)  # someone else's claim on it takes nothing off
    report("ada", "102", 1, 120)  # reported in full: nothing more
    added = {r.ref: r for r in sync_once(settings, now=NOW)}
    assert "102" not in added
    mine = [r.core_hours for r in ledger.records(user="ada") if r.ref == "101"]
    assert sum(mine) == pytest.approx(job["101"][5] * job["101"][7] / 3600, abs=2e-6)
    assert added["101"].source == "sacct"
    assert sync_once(settings, now=NOW + 5) == []


class StandInHub(web.RequestHandler):
    def get(self) -> None:
        if self.request.headers.get("Authorization") != "token t-ada":
            raise web.HTTPError(403)
        self.finish(json.dumps({"kind": "user", "name": "ada", "admin": False, "groups": [],
                                "scopes": [SCOPE]}))  # fmt: skip


def test_a_job_is_charged_once_and_a_forged_sacct_claim_is_refused(
    tmp_path, sacct, pwd_stub
) -> None:
    from genesis_lab.compute.ledger import get_ledger
    from genesis_lab.service.accounting_sync import sync_once
    from genesis_lab.service.app import make_app
    from genesis_lab.service.auth import make_hub_auth

    settings = settings_for(tmp_path)
    sync_once(settings, now=NOW)
    synced = next(r for r in get_ledger(settings).records() if r.ref == "101")

    async def main() -> None:
        hub, hub_port = listen(web.Application([(r"/hub/api/user", StandInHub)]))
        s = settings.model_copy(update={"hub_api_url": f"http://127.0.0.1:{hub_port}/hub/api",
                                        "hub_api_token": "svc"})  # fmt: skip
        app = make_app(s, hub_auth=make_hub_auth(s, access_scopes={SCOPE}))
        service, port = listen(app)
        client = httpclient.AsyncHTTPClient(force_instance=True)

        async def post(**kw) -> tuple[int, dict]:
            body = {"allocation": "ada-p1", "kind": "cluster", "ref": "w-1", "cores": 1,
                    "start": NOW - 60, "end": NOW, "source": "worker-lifetime", **kw}  # fmt: skip
            r = await client.fetch(f"http://127.0.0.1:{port}/services/genesis/api/usage",
                                   method="POST", body=json.dumps(body), raise_error=False,
                                   headers={"Authorization": "token t-ada"})  # fmt: skip
            return r.code, json.loads(r.body)

        try:
            # a job the sync charged: the session's report gets the ledger's record, no charge
            code, answer = await post(ref="101", cores=2, start=NOW - 500, end=NOW - 400)
            assert (code, answer["record"]) == (200, synced.__dict__)
            # the same report twice: charged once
            assert (await post(ref="w-1"))[0] == 201
            code, answer = await post(ref="w-1")
            assert code == 200 and answer["record"]["ref"] == "w-1"
            # "sacct" for a job accounting does not know: refused, naming field and values
            code, answer = await post(ref="999", source="sacct")
            assert code == 400, answer
            assert "source='sacct'" in answer["message"]
            assert "allowed values: worker-lifetime" in answer["message"]
            # "sacct" for a job it knows: accounting's figures, not the claimed ones
            code, answer = await post(ref="104", source="sacct", cores=64)
            assert code == 201, answer
            assert answer["record"]["cores"] == 1
            # another user's job (already charged to them by the sync): refused, not taken over
            code, answer = await post(ref="106", source="sacct", allocation="open-p1")
            assert code == 403, answer
            assert "source='sacct' charges only the caller's own jobs" in answer["message"]
            # her own job, but under another SLURM account than the allocation's
            code, answer = await post(ref="107", source="sacct")
            assert code == 400, answer
            assert "account 'p2', not 'p1'" in answer["message"]
        finally:
            client.close()
            service.stop()
            hub.stop()
            await app.settings["genesis_state"].guard.close()

    asyncio.run(main())
    refs = [r.ref for r in get_ledger(settings).records()]
    assert sorted(refs) == sorted([*expected(), "w-1", "104"])


def test_the_genesis_service_gets_the_hubs_slurm_conf(tmp_path, monkeypatch) -> None:
    from genesis_lab.hub.config import hub_plan
    from genesis_lab.settings import load_settings

    conf = str(tmp_path / "slurm.conf")
    monkeypatch.setenv("SLURM_CONF", conf)
    plan = hub_plan(load_settings(home=tmp_path / "home"))
    assert plan.genesis_service is not None
    assert plan.genesis_service["environment"]["SLURM_CONF"] == conf
    monkeypatch.delenv("SLURM_CONF")
    assert (
        "SLURM_CONF"
        not in hub_plan(load_settings(home=tmp_path / "h2")).genesis_service["environment"]
    )


def test_a_stopping_service_does_not_wait_for_a_sacct_that_hangs(tmp_path, monkeypatch) -> None:
    """A sacct that hangs (a DNS lookup of its controller timing out) held the service's exit,
    and with it the hub's shutdown, until the command returned."""
    import signal
    import subprocess

    from fixtures.genesis_service import genesis_service

    bin_dir, called = tmp_path / "bin", tmp_path / "sacct.pid"
    bin_dir.mkdir()
    (bin_dir / "sacct").write_text(f"#!/bin/sh\necho $$ > {called}\nexec sleep 25\n")
    (bin_dir / "sacct").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    allocations = [{"id": "p1", "scheduler": "slurm", "account": "p1", "members": ["*"]}]
    with genesis_service(tmp_path / "home", allocations, {}) as svc:
        deadline = time.monotonic() + 30
        while not (called.exists() and called.read_text().strip()):
            assert time.monotonic() < deadline, "the sync never asked sacct"
            time.sleep(0.1)
        svc.proc.send_signal(signal.SIGINT)  # as the hub stops its services
        asked = time.monotonic()
        try:
            svc.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the service still waits for the sacct in flight")
        finally:
            os.kill(int(called.read_text()), signal.SIGKILL)
        assert time.monotonic() - asked < 5
        assert svc.proc.returncode == 0
