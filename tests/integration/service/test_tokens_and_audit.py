"""Tokens (none, forged, expired, revoked clearances), 403s that are logged, and audit coverage."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
from svc_hub import DATASETS

from genesis_lab.access.audit import query, verify

pytestmark = pytest.mark.hub

CONTROLLED = DATASETS["controlled"]
CHUNK = "thickness/0.0"


def records(hub, **filters):
    return query(hub.audit_path, **filters)


@pytest.mark.parametrize("direct", [False, True], ids=["proxy", "direct"])
def test_no_token_forged_token_and_expired_token_fail(service_hub, direct):
    hub = service_hub
    path = f"api/data/{DATASETS['public']}/{CHUNK}"
    assert hub.get(path, "vetted", direct=direct).status_code == 200
    none = hub.get(path, direct=direct)
    forged = hub.get(path, token="f" * 32, direct=direct)
    bearer = hub.get(path, headers={"Authorization": "Bearer not-a-real-token"}, direct=direct)
    expiring = hub.new_token("c-controlled", expires_in=1)
    assert hub.get(path, token=expiring, direct=direct).status_code == 200
    time.sleep(2.5)
    # another user's expired token, used by "vetted"
    expired = hub.get(path, token=expiring, direct=direct)
    for r in (none, forged, bearer, expired):
        assert r.status_code == 401, r.text
        assert hub.chunks["public"] not in r.content
        assert r.json()["error"] == "unauthenticated"
    unauth = records(hub, outcome="unauthenticated")
    assert len([r for r in unauth if r["where"].endswith(path)]) >= 4


def test_unvetted_and_uncleared_get_403_logged_and_cleared_reads(service_hub):
    hub = service_hub
    path = f"api/data/{CONTROLLED}/{CHUNK}"
    for user, reason in (("unvetted", "not vetted"), ("vetted", "clearance")):
        before = len(records(hub, user=user, dataset=CONTROLLED, outcome="denied"))
        r = hub.get(path, user)
        assert r.status_code == 403
        assert reason in r.json()["message"]
        assert hub.chunks["controlled"] not in r.content
        denied = records(hub, user=user, dataset=CONTROLLED, outcome="denied")
        assert len(denied) == before + 1
        last = denied[-1]
        assert last["event_type"] == "data.read" and reason in last["reason"]
        for f in ("time", "where", "source", "identity", "outcome", "prev_hash", "hash"):
            assert last[f]
    r = hub.get(path, "c-controlled")
    assert r.status_code == 200 and r.content == hub.chunks["controlled"]
    ok = records(hub, user="c-controlled", dataset=CONTROLLED, outcome="success")
    assert ok and ok[-1]["file"] == CHUNK


def test_revocation_takes_effect_on_the_next_request_for_old_tokens(service_hub):
    hub = service_hub
    user = "revokee"
    hub.hub_api("POST", f"/users/{user}").raise_for_status()
    hub.set_groups(user, ["vetted", "clearance-proprietary"])
    old_token = hub.new_token(user)  # issued while cleared
    entry = DATASETS["proprietary"]
    path = f"api/data/{entry}/{CHUNK}"
    assert hub.get(path, token=old_token).status_code == 200
    hub.set_groups(user, ["vetted"])  # the admin revokes
    r = hub.get(path, token=old_token)
    assert r.status_code == 404  # hidden again: answered as an unknown id
    assert hub.chunks["proprietary"] not in r.content
    assert entry not in {e["id"] for e in hub.get("api/catalog", token=old_token).json()["entries"]}
    hub.set_groups(user, ["vetted", "clearance-proprietary"])  # granted again
    assert hub.get(path, token=old_token).status_code == 200
    hub.set_groups(user, [])  # no longer vetted, clearance kept: still no read
    hub.set_groups(user, ["clearance-proprietary"])
    assert hub.get(path, token=old_token).status_code == 404


def test_token_without_the_service_scope_is_refused(service_hub):
    hub = service_hub
    narrow = hub.new_token("c-controlled", scopes=["read:users:name!user"])
    r = hub.get(f"api/catalog/{DATASETS['public']}", token=narrow)
    assert r.status_code == 403
    assert "scope" in r.json()["message"]


def test_audit_coverage_200_actions_200_records(service_hub):
    hub = service_hub
    users = ["unvetted", "vetted", "c-controlled", "c-proprietary", "c-export"]
    ids = [*DATASETS.values(), "semiconductors/no-such-thing"]
    actions = []
    for i in range(200):
        user = users[i % len(users)]
        entry = ids[(i // 5) % len(ids)]
        kind = i % 7
        path = {
            0: "api/catalog",
            1: f"api/catalog/{entry}",
            2: f"api/data/{entry}",
            3: f"api/data/{entry}/{CHUNK}",
            4: "api/dcat",
            5: f"api/data/{entry}/../../secret.txt",
            6: "api/nothing-here",
        }[kind]
        actions.append((user if i % 11 else None, path))
    start = verify(hub.audit_path).records
    marker = f"cov-{time.time_ns()}"
    statuses = []
    with requests.Session() as s:
        for user, path in actions:
            headers = {"X-Forwarded-For": marker}
            if user:
                headers["Authorization"] = f"token {hub.token(user)}"
            req = requests.Request("GET", hub.service_url + path, headers=headers).prepare()
            req.url = hub.service_url + path  # keep '..' segments as sent
            statuses.append(s.send(req, timeout=30).status_code)
    rep = verify(hub.audit_path)
    assert rep.ok, rep.problems
    mine = [r for r in query(hub.audit_path) if r["source"] == marker]
    assert rep.records - start == 200 == len(mine)
    assert [r["seq"] for r in mine] == list(range(start, start + 200))
    assert {r["outcome"] for r in mine} >= {"success", "denied", "not-found", "unauthenticated"}
    assert all(s < 500 for s in statuses)


def test_audit_cli_over_the_service_log(service_hub):
    hub = service_hub
    hub.get(f"api/data/{CONTROLLED}/{CHUNK}", "vetted")
    cmd = [sys.executable, "-c", "import sys; from genesis_lab.cli import main; sys.exit(main())"]
    show = subprocess.run(
        [*cmd, "audit", "show", "--log", str(hub.audit_path), "--user", "vetted",
         "--dataset", CONTROLLED, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert show.returncode == 0, show.stderr
    rows = json.loads(show.stdout)
    assert rows and all(r["identity"] == "vetted" and r["dataset"] == CONTROLLED for r in rows)
    ok = subprocess.run([*cmd, "audit", "verify", "--log", str(hub.audit_path)],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_runs_and_schedules_refuse_what_they_must(service_hub):
    hub = service_hub

    def post(path, user, body):
        return requests.post(hub.service_url + path, json=body, timeout=30,
                             headers={"Authorization": f"token {hub.token(user)}"})  # fmt: skip

    assert post("api/runs", "unvetted", {"challenge": "reactor-period"}).status_code == 403
    assert post("api/runs", "vetted", {"challenge": "no-such-challenge"}).status_code == 404
    assert post("api/runs", "vetted", {"parameters": []}).status_code == 400
    assert post("api/schedules", "vetted", {"challenge": "x"}).status_code == 400
    assert (
        post("api/schedules", "vetted", {"challenge": "nope", "cron": "0 * * * *"}).status_code
        == 404
    )
    listing = hub.get("api/schedules", "vetted")
    assert listing.status_code == 200 and listing.json()["schedules"] == []
    # a write with only a cookie-less, header-less request is unauthenticated
    assert requests.post(hub.service_url + "api/runs", json={}, timeout=30).status_code == 401
    events = {r["event_type"] for r in query(hub.audit_path, user="vetted")}
    assert {"run.create", "schedule.create", "schedule.list"} <= events
