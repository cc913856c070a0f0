"""A real hub: sign-up and approval, a session bound to an allocation, refusals, isolation."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import pytest
import requests
from fixtures.hub import run_async
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

pytestmark = [pytest.mark.hub, pytest.mark.slow]

REPORT_ACCOUNT = """
import os, genesis_lab.compute as compute
c = compute.cluster()
script = c.job_script()
print("ALLOCATION", os.environ["GENESIS_ALLOCATION"])
print("ACCOUNT", c.allocation.account)
print("SCRIPT-ACCOUNT", [l for l in script.splitlines() if "phys-acct" in l])
c.close()
"""


@pytest.fixture(scope="module")
def two_sessions(hub):
    """Users A and B, each with a running session (spawned in parallel)."""
    names = [hub.new_user(), hub.new_user()]
    options = [{"allocation": "physics-slurm"}, {"allocation": "open-local"}]
    for name, opts in zip(names, options, strict=True):
        r = hub.spawn(name, opts)
        assert r.status_code in (201, 202), r.text
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(hub.wait_ready, names))
    return names


def test_signup_is_blocked_until_an_admin_approves(hub):
    name = "pending-user"
    page = hub.signup(name)
    assert page.status_code == 200 and "sent to the admin" in page.text
    refused = hub.login(name)
    assert "jupyterhub-hub-login" not in refused.cookies
    assert "has not been authorized" in refused.login_response.text
    hub.approve(name)
    accepted = hub.login(name)
    assert "jupyterhub-hub-login" in accepted.cookies
    assert accepted.login_response.url.endswith("/hub/home")


def test_password_is_stored_as_a_bcrypt_hash_only(hub):
    import sqlite3

    db = hub.base / "home" / "state" / "hub" / "jupyterhub.sqlite"
    rows = sqlite3.connect(db).execute("select username, password from users_info").fetchall()
    assert rows
    for _, stored in rows:
        assert bytes(stored).startswith(b"$2b$")
    assert b"correct-horse-battery-9" not in db.read_bytes()
    assert "correct-horse-battery-9" not in hub.log()
    assert hub.admin_password not in hub.log()[hub.log().index("Running JupyterHub") :]


def test_kernel_in_the_session_charges_the_chosen_allocation(hub, two_sessions):
    alice = two_sessions[0]
    out = hub.run_code(alice, REPORT_ACCOUNT)
    assert "ALLOCATION physics-slurm" in out
    assert "ACCOUNT phys-acct" in out
    assert "#SBATCH" in out.split("SCRIPT-ACCOUNT", 1)[1]


def test_a_session_runs_into_the_sites_results_store(hub, two_sessions):
    out = hub.run_code(
        two_sessions[0],
        "from genesis_lab.settings import get_settings; print('RESULTS', get_settings().results_root)",
    )
    site_store = Path(hub.env["GENESIS_HOME"]) / "results"
    assert f"RESULTS {site_store}" in out, out


@pytest.mark.parametrize(
    ("options", "status", "reason"),
    [
        ({"allocation": "restricted"}, 403, "is not a member of allocation 'restricted'"),
        ({"allocation": "does-not-exist"}, 403, "is not a member of allocation"),
        ({"allocation": "spent"}, 403, "budget of allocation 'spent' is spent"),
        ({"allocation": "open-local", "cores": "64"}, 400, "cores=64"),
        ({"allocation": "open-local", "walltime": "99:00:00"}, 400, "walltime"),
        ({"allocation": "open-local", "image": "evil"}, 400, "Unknown session option"),
    ],
)
def test_refused_requests_say_why(hub, options, status, reason):
    name = hub.new_user()
    r = hub.spawn(name, options)
    assert r.status_code == status, r.text
    assert reason in r.json()["message"]
    model = hub.api("GET", f"/users/{name}", hub.ensure_admin_token()).json()
    assert not model["servers"].get("", {}).get("ready")


def test_spawn_page_shows_the_refusal(hub):
    name = hub.new_user()
    s = hub.login(name)
    form = s.get(f"{hub.url}/hub/spawn", timeout=30)
    assert 'name="allocation"' in form.text and "open-local" in form.text
    assert "restricted" not in form.text  # only allocations the user is a member of
    r = s.post(f"{hub.url}/hub/spawn", data={"allocation": "restricted", "cores": "1",
               "memory": "1GB", "walltime": "00:10:00", "_xsrf": s.cookies.get("_xsrf")},
               timeout=30)  # fmt: skip
    assert r.status_code == 403
    assert "is not a member of allocation" in r.text
    assert 'name="allocation"' in r.text  # the form again, to choose another


def _ws_status(url: str, headers: dict[str, str]) -> int:
    async def go() -> int:
        try:
            conn = await websocket_connect(HTTPRequest(url, headers=headers))
        except HTTPClientError as exc:
            return exc.code
        conn.close()
        await asyncio.sleep(0.05)
        return 101

    return run_async(go)


def test_one_users_session_is_closed_to_everyone_else(hub, two_sessions):
    alice, bob = two_sessions
    a_token, b_token = hub.user_token(alice), hub.user_token(bob)
    base = f"{hub.url}/user/{alice}"
    ok = requests.get(
        f"{base}/api/status", headers={"Authorization": f"token {a_token}"}, timeout=30
    )
    assert ok.status_code == 200
    r = requests.post(f"{base}/api/kernels", headers={"Authorization": f"token {a_token}"},
                      json={"name": "python3"}, timeout=60)  # fmt: skip
    kernel = r.json()["id"]
    try:
        for headers in ({"Authorization": f"token {b_token}"}, {}):
            for path in ("/api/status", "/api/contents", f"/api/kernels/{kernel}"):
                r = requests.get(base + path, headers=headers, timeout=30)
                assert r.status_code in (403, 404), (path, headers, r.status_code)
            ws = base.replace("http", "ws", 1) + f"/api/kernels/{kernel}/channels"
            assert _ws_status(ws, headers) in (403, 404)
        # B's browser cookie, following every redirect, never reaches A's server
        b_browser = hub.login(bob)
        for path in ("/lab", "/api/status", "/api/contents"):
            r = b_browser.get(base + path, timeout=30)
            assert r.status_code in (403, 404), (path, r.status_code, r.url)
        cookie = "; ".join(f"{k}={v}" for k, v in b_browser.cookies.items())
        ws = base.replace("http", "ws", 1) + f"/api/kernels/{kernel}/channels"
        assert _ws_status(ws, {"Cookie": cookie}) in (403, 404)
        # B's token cannot read A's hub record or stop A's server
        assert hub.api("GET", f"/users/{alice}", b_token).status_code in (403, 404)
        assert hub.api("DELETE", f"/users/{alice}/server", b_token).status_code in (403, 404)
    finally:
        requests.delete(f"{base}/api/kernels/{kernel}",
                        headers={"Authorization": f"token {a_token}"}, timeout=30)  # fmt: skip


def test_a_clearance_officer_cannot_make_themselves_admin(hub):
    officer, target = hub.new_user(), hub.new_user()
    token = hub.user_token(officer)  # logging in makes them hub users
    hub.login(target)
    admin = hub.ensure_admin_token()
    r = hub.api("POST", "/groups/clearance-officers/users", admin, json={"users": [officer]})
    assert r.status_code == 200, r.text
    # officers grant clearances ...
    r = hub.api("POST", "/groups/clearance-controlled/users", token, json={"users": [target]})
    assert r.status_code == 200, r.text
    assert "clearance-controlled" in hub.api("GET", f"/users/{target}", admin).json()["groups"]
    # ... but cannot escalate
    assert hub.api("PATCH", f"/users/{officer}", token, json={"admin": True}).status_code == 403
    r = hub.api("POST", f"/users/{officer}/tokens", token, json={"scopes": ["admin:users"]})
    assert r.status_code in (400, 403) and "token" not in r.json()
    r = hub.api("POST", "/groups/clearance-officers/users", token, json={"users": [target]})
    assert r.status_code in (403, 404)
    assert hub.api("GET", f"/users/{officer}", admin).json()["admin"] is False
