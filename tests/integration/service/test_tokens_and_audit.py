"""Tokens (none, forged, expired, revoked clearances), 403s that are logged, and audit coverage."""

from __future__ import annotations

import http.client
import json
import posixpath
import subprocess
import sys
import time

import pytest
import requests
from svc_hub import CLEARED, DATASETS, SECRET

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
    marker = f"tok-{'direct' if direct else 'proxy'}-{time.time_ns()}"  # this variant's records

    def get(**kw):
        headers = {"X-Forwarded-For": marker, **kw.pop("headers", {})}
        return hub.get(path, headers=headers, direct=direct, **kw)

    assert get(user="vetted").status_code == 200
    none = get()
    forged = get(token="f" * 32)
    bearer = get(headers={"Authorization": "Bearer not-a-real-token"})
    expiring = hub.new_token("c-controlled", expires_in=1)
    assert get(token=expiring).status_code == 200
    time.sleep(2.5)
    # another user's expired token, used by "vetted"
    expired = get(token=expiring)
    for r in (none, forged, bearer, expired):
        assert r.status_code == 401, r.text
        assert hub.chunks["public"] not in r.content
        assert r.json()["error"] == "unauthenticated"
    # exactly this variant's six requests, in order: two reads, then four refusals
    mine = [r for r in records(hub) if r["source"] == marker]
    assert [(r["outcome"], r["identity"]) for r in mine] == [
        ("success", "vetted"),
        ("unauthenticated", "-"),
        ("unauthenticated", "-"),
        ("unauthenticated", "-"),
        ("success", "c-controlled"),
        ("unauthenticated", "-"),
    ]
    assert all(r["where"] == f"genesis GET /services/genesis/{path}" for r in mine)
    assert all(r["event_type"] == "data.read" for r in mine)


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


def expected(user: str, marking: str) -> tuple[bool, bool]:
    """(visible, may_read) per marking, as the README states it: public for everyone; a cleared
    marking for its clearance holders; controlled metadata (not data) for everyone else."""
    if marking == "public":
        return True, True
    if CLEARED.get(user) == marking:
        return True, True
    return marking == "controlled", False


EVENTS = {0: "catalog.list", 1: "catalog.get", 2: "data.read", 3: "data.read", 4: "dcat.export",
          5: "data.read", 6: "service.unknown-path"}  # fmt: skip


def expected_record(user: str | None, entry: str, kind: int) -> tuple[str, str, str | None, int]:
    """(outcome, identity, dataset, HTTP status) of one request, from the rules above."""
    if user is None:
        return "unauthenticated", "-", None, 401
    if kind in (0, 4):
        return "success", user, None, 200
    if kind == 6:
        return "not-found", user, None, 404
    marking = MARKING_OF.get(entry)
    visible, may_read = expected(user, marking) if marking else (False, False)
    if not visible:
        return "not-found", user, entry, 404
    if kind == 1:
        return "success", user, entry, 200
    if not may_read:
        return "denied", user, entry, 403
    if kind == 5:
        return "denied", user, entry, 400  # a readable store, but the path leaves it
    return "success", user, entry, 200


MARKING_OF = {entry: marking for marking, entry in DATASETS.items()}


def test_audit_coverage_200_actions_200_records(service_hub):
    """Each of 200 requests (5 users and no token, 5 datasets, 7 kinds) leaves exactly one
    record, whose identity, dataset, path and outcome are those of the request."""
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
        actions.append((user if i % 11 else None, entry, kind, path))
    start = verify(hub.audit_path).records
    marker = f"cov-{time.time_ns()}"
    statuses = []
    # odd requests go to the service's own port (as sessions reach it), even ones through the
    # proxy; http.client sends '..' segments as written (requests/urllib3 resolve them first)
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30)
             for port in (hub.port, hub.service_port)]  # fmt: skip
    try:
        for i, (user, _, _, path) in enumerate(actions):
            headers = {"X-Forwarded-For": f"{marker}-{i}"}
            if user:
                headers["Authorization"] = f"token {hub.token(user)}"
            conn = conns[i % 2]
            conn.request("GET", f"/services/genesis/{path}", headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            assert SECRET not in body, (i, path)
            statuses.append(answer.status)
    finally:
        for conn in conns:
            conn.close()
    rep = verify(hub.audit_path)
    assert rep.ok, rep.problems
    since = [r for r in query(hub.audit_path) if r["seq"] >= start]
    mine = [r for r in since if r["source"].startswith(f"{marker}-")]
    # the shared hub's other work (a stopped session's usage report, say) may add records of
    # its own meanwhile: every record is one of those or one of ours, and ours are 200
    others = [r for r in since if not r["source"].startswith(f"{marker}-")]
    assert rep.records - start == len(since) == 200 + len(others), others
    assert len(mine) == 200, [r["source"] for r in others]
    assert [r["seq"] for r in mine] == sorted(r["seq"] for r in mine)
    by_request = {int(r["source"].rsplit("-", 1)[1]): r for r in mine}
    assert sorted(by_request) == list(range(200))  # one record per request, none twice
    for i, (user, entry, kind, path) in enumerate(actions):
        record = by_request[i]
        if i % 2 == 0 and kind == 5:  # the proxy resolves the '..' segments before the service
            path, kind = posixpath.normpath(path), 6
        outcome, identity, dataset, status = expected_record(user, entry, kind)
        got = (record["outcome"], record["identity"], record.get("dataset"), statuses[i])
        assert got == (outcome, identity, dataset, status), (i, user, path, record["where"], got)
        assert record["where"] == f"genesis GET /services/genesis/{path}", (i, record)
        assert record["event_type"] == EVENTS[kind], (i, record)
        if outcome == "success" and kind == 3:
            assert record["file"] == CHUNK
    assert {r["outcome"] for r in mine} == {"success", "denied", "not-found", "unauthenticated"}


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
