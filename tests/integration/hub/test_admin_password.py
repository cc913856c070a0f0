"""``genesis-lab admin reset-password``: the first admin gets a new one-time password while the
hub runs; the old one stops working. Signed in with it, every hub page leads to the change form
until the admin chooses their own (API tokens keep working); each step is in the account log."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import sqlalchemy as sa

from genesis_lab.access.audit import query, verify
from genesis_lab.hub.passwords import ONE_TIME_MESSAGE

CLI = str(Path(sys.executable).parent / "genesis-lab")
GATED = ["/hub/home", "/hub/spawn", "/hub/token", "/hub/admin", "/hub/authorize",
         "/hub/user-redirect/lab", "/hub/api/oauth2/authorize?client_id=x"]  # fmt: skip


def reset(hub, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "admin", "reset-password", *args], env=hub.env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def account_log(hub) -> Path:
    return hub.base / "home" / "state" / "hub" / "account-audit.jsonl"


def test_reset_password_gives_the_first_admin_a_new_one_time_password(hub):
    token = hub.ensure_admin_token()  # made before the reset, with the admin's own password
    old = hub.admin_password
    since = dt.datetime.now(dt.UTC)
    new = hub.issue_one_time_password()
    try:
        hub.admin_password = check_the_one_time_password(hub, token, old, new, since)
    except BaseException:
        # leave the admin a password of their own for the tests after this one
        with contextlib.suppress(AssertionError, requests.RequestException):
            hub.admin_password = hub.choose_password(hub.login("admin", new), new)
        raise


def check_the_one_time_password(hub, token: str, old: str, new: str, since: dt.datetime) -> str:
    """Everything a one-time password does; returns the password the admin chose."""
    assert new != old and len(new) >= 16
    signed_in = hub.login("admin", new)
    assert "jupyterhub-hub-login" in signed_in.cookies
    assert "jupyterhub-hub-login" not in hub.login("admin", old).cookies
    db = (hub.base / "home" / "state" / "hub" / "jupyterhub.sqlite").read_bytes()
    assert new.encode() not in db  # only the hash is stored

    # the sign-in lands on the change form, which says why; so does every other hub page
    landed = signed_in.login_response
    assert urlsplit(landed.url).path == "/hub/change-password", landed.url
    assert parse_qs(urlsplit(landed.url).query)["next"] == ["/hub/home"]
    assert ONE_TIME_MESSAGE in landed.text
    for page in GATED:
        r = signed_in.get(f"{hub.url}{page}", allow_redirects=False, timeout=30)
        where = urlsplit(r.headers.get("Location", ""))
        assert (r.status_code, where.path) == (302, "/hub/change-password"), (page, r.status_code)
        assert parse_qs(where.query)["next"] == [page]
    # the API with a token is not affected; with the sign-in's cookie it is refused, so the
    # one-time password cannot mint a token that outlives it
    assert hub.api("GET", "/users/admin", token).json()["name"] == "admin"

    def mint_with_cookie() -> requests.Response:
        return signed_in.post(f"{hub.url}/hub/api/users/admin/tokens", json={"note": "cookie"},
                              headers={"X-XSRFToken": signed_in.cookies.get("_xsrf", "")},
                              timeout=30)  # fmt: skip

    minted = mint_with_cookie()
    assert minted.status_code == 403 and ONE_TIME_MESSAGE in minted.json()["message"], minted.text

    # a wrong current password changes nothing
    page = signed_in.get(f"{hub.url}/hub/change-password", timeout=30)
    refused = signed_in.post(f"{hub.url}/hub/change-password", timeout=30, data={
        "old_password": "not-it", "new_password": "x" * 12, "new_password_confirmation": "x" * 12,
        "_xsrf": hub._xsrf(signed_in, page.text)})  # fmt: skip
    assert refused.status_code == 400 and "current password was incorrect" in refused.text
    home = f"{hub.url}/hub/home"
    assert signed_in.get(home, allow_redirects=False, timeout=30).status_code == 302

    chosen = hub.choose_password(signed_in, new)
    assert signed_in.get(home, allow_redirects=False, timeout=30).status_code == 200
    assert mint_with_cookie().status_code == 201
    assert "jupyterhub-hub-login" not in hub.login("admin", new).cookies  # one-time: gone
    again = hub.login("admin", chosen).login_response
    assert [urlsplit(r.url).path for r in [*again.history, again]] == ["/hub/login", "/hub/home"]

    events = [(r["event_type"], r["outcome"], r.get("one_time"))
              for r in query(account_log(hub), user="admin", since=since)]  # fmt: skip
    assert events == [
        ("account.password-issued", "success", None),
        ("account.one-time-login", "success", None),
        ("account.password-changed", "denied", True),
        ("account.password-changed", "success", True),
    ]
    assert verify(account_log(hub)).ok
    assert new not in account_log(hub).read_text() and chosen not in account_log(hub).read_text()
    return chosen


def admin_sets_password(hub, name: str) -> str:
    """The admin sets ``name``'s password at /hub/change-password/<name>; returns it."""
    admin = hub.admin_browser()
    form = admin.get(f"{hub.url}/hub/change-password/{name}", timeout=30)
    assert form.status_code == 200 and 'id="genesis-password-toggle"' in form.text
    assert 'name="old_password"' not in form.text  # the admin does not know it
    assert "It is one-time" in form.text and "after 72 hours unused" in form.text
    new = f"set-by-admin-{uuid.uuid4().hex[:8]}"
    done = admin.post(f"{hub.url}/hub/change-password/{name}", timeout=30, data={
        "new_password": new, "new_password_confirmation": new,
        "_xsrf": hub._xsrf(admin, form.text)})  # fmt: skip
    assert f"The password for {name} has been changed" in done.text
    return new


def test_a_password_an_admin_sets_is_one_time(hub):
    since = dt.datetime.now(dt.UTC)
    name = hub.new_user()
    new = admin_sets_password(hub, name)
    signed_in = hub.login(name, new)
    landed = signed_in.login_response
    assert urlsplit(landed.url).path == "/hub/change-password", landed.url  # the admin knows it
    assert ONE_TIME_MESSAGE in landed.text
    chosen = hub.choose_password(signed_in, new)
    assert (
        signed_in.get(f"{hub.url}/hub/home", allow_redirects=False, timeout=30).status_code == 200
    )
    assert "jupyterhub-hub-login" not in hub.login(name, new).cookies
    again = hub.login(name, chosen).login_response
    assert urlsplit(again.url).path == "/hub/home"
    events = [(r["event_type"], r["outcome"], r.get("by"))
              for r in query(account_log(hub), user=name, since=since)]  # fmt: skip
    assert events == [
        ("account.password-issued", "success", "admin"),
        ("account.one-time-login", "success", None),
        ("account.password-changed", "success", None),
    ]


def test_an_issued_password_unused_past_the_sites_hours_no_longer_signs_in(hub):
    name = hub.new_user()
    new = admin_sets_password(hub, name)
    hours = 72  # hub.one_time_password_hours: the default
    engine = sa.create_engine(f"sqlite:///{hub.base / 'home/state/hub/jupyterhub.sqlite'}")
    try:
        issued = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=hours + 1)
        update = sa.text("UPDATE genesis_one_time_passwords SET issued_at = :t WHERE username = :u")
        with engine.begin() as db:  # as if issued hours + 1 ago
            db.execute(update, {"u": name, "t": issued.isoformat(sep=" ")})
    finally:
        engine.dispose()
    refused = hub.login(name, new)
    assert "jupyterhub-hub-login" not in refused.cookies
    text = refused.login_response.text
    assert f"expired unused after {hours} hours" in text, text[-2000:]
    assert "genesis-lab admin reset-password" in text
    assert "expired" not in hub.login(name, "not-the-password").login_response.text
    record = query(account_log(hub), user=name, event_type="account.one-time-login")[-1]
    assert (record["outcome"], record["reason"]) == (
        "denied",
        "the one-time password expired unused",
    )
    # a new password from the admin signs in again (and is one-time itself)
    fresh = admin_sets_password(hub, name)
    assert urlsplit(hub.login(name, fresh).login_response.url).path == "/hub/change-password"


def test_reset_password_refuses_a_user_who_is_no_admin(hub):
    done = reset(hub, "mallory")
    assert done.returncode == 1
    assert "user='mallory' is not in hub.admin_users (admin)" in done.stderr
