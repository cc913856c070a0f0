"""``api/usage`` of the running service: the caller is always the user charged, only allocations
they are members of, users see their own records and admins all; no other account can write the
ledger file."""

from __future__ import annotations

import json
import pwd
import stat
import subprocess
import sys
import time

import pytest
import requests
from realparts import is_root, require

pytestmark = [pytest.mark.hub, pytest.mark.timeout(120)]


def post(svc, user: str, body: dict) -> requests.Response:
    return requests.post(svc.direct_url + "api/usage", json=body, timeout=30,
                         headers={"Authorization": f"token {svc.token(user)}"})  # fmt: skip


def body(**kw) -> dict:
    now = time.time()
    return {"allocation": "open-local", "kind": "cluster", "ref": "w-1", "cores": 2,
            "start": now - 900, "end": now, "source": "worker-lifetime", **kw}  # fmt: skip


def ledger_lines(svc) -> list[dict]:
    path = svc.state_dir / "service" / "ledger" / "usage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_records_are_the_callers_own_on_their_own_allocations(service_hub):
    svc = service_hub
    before = len(ledger_lines(svc))
    r = post(svc, "vetted", body(ref="mine-1"))
    assert r.status_code == 201, r.text
    assert r.json()["record"]["user"] == "vetted"
    assert r.json()["record"]["core_hours"] == pytest.approx(0.5)
    r = post(svc, "c-controlled", body(ref="theirs-1", cores=1))
    assert r.status_code == 201, r.text
    # naming another user, or an allocation the caller is not a member of, is refused
    r = post(svc, "vetted", body(ref="forged", user="c-controlled"))
    assert r.status_code == 400 and "always the caller" in r.json()["message"]
    r = post(svc, "vetted", body(ref="forged", allocation="restricted"))
    assert r.status_code == 403 and "not a member" in r.json()["message"]
    r = post(svc, "vetted", body(ref="forged", allocation="no-such-one"))
    assert r.status_code == 403
    r = post(svc, "vetted", body(ref="forged", kind="free-lunch"))
    assert r.status_code == 400 and "allowed values" in r.json()["message"]
    lines = ledger_lines(svc)[before:]
    assert [(x["user"], x["ref"]) for x in lines] == [("vetted", "mine-1"),
                                                      ("c-controlled", "theirs-1")]  # fmt: skip
    mine = svc.get("api/usage", "vetted", direct=True).json()
    assert {x["user"] for x in mine["records"]} == {"vetted"}
    assert not mine["admin"]
    everyone = svc.get("api/usage", token=svc.hub.ensure_admin_token(), direct=True).json()
    assert {"vetted", "c-controlled"} <= {x["user"] for x in everyone["records"]}
    assert everyone["admin"]
    row = next(a for a in everyone["allocations"] if a["id"] == "open-local")
    assert row["used_core_hours"] == pytest.approx(
        sum(x["core_hours"] for x in ledger_lines(svc) if x["allocation"] == "open-local")
    )


def test_no_other_account_can_write_or_read_the_ledger_file(service_hub):
    require(is_root(), "root", "the ledger belongs to the service's account only as root")
    svc = service_hub
    post(svc, "vetted", body(ref="exists")).raise_for_status()
    path = svc.state_dir / "service" / "ledger" / "usage.jsonl"
    owner = pwd.getpwuid(path.stat().st_uid).pw_name
    assert owner == "genesis" and pwd.getpwuid(path.parent.stat().st_uid).pw_name == "genesis"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # a session account (any account but root and the service's) is turned away by the kernel
    session_account = "nobody"
    size = path.stat().st_size
    probe = subprocess.run(
        ["runuser", "-u", session_account, "--", sys.executable, "-c",
         f"open({str(path)!r}, 'a').write('{{}}\\n')"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
    assert path.stat().st_size == size
