"""``genesis-lab clearance``: an admin grants a clearance to a user approved but never logged in,
lists it and revokes it, through the real hub's REST API."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

CLI = str(Path(sys.executable).parent / "genesis-lab")


def _cli(hub, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    env = {**hub.env, "JUPYTERHUB_API_URL": hub.api_url,
           "JUPYTERHUB_API_TOKEN": token or hub.ensure_admin_token()}  # fmt: skip
    return subprocess.run([CLI, "clearance", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def _groups(hub, name: str) -> list[str]:
    r = hub.api("GET", f"/users/{name}", hub.ensure_admin_token())
    r.raise_for_status()
    return r.json()["groups"]


def test_grant_list_revoke_for_a_user_who_never_logged_in(hub):
    name = f"never{uuid.uuid4().hex[:6]}"
    page = hub.signup(name)
    assert "sent to the admin" in page.text
    hub.approve(name)  # and nothing else: no login, no session

    done = _cli(hub, "grant", name, "export-controlled")
    assert done.returncode == 0, done.stderr
    assert "clearance-export-controlled" in _groups(hub, name)
    listed = _cli(hub, "list", name, "--json")
    assert json.loads(listed.stdout) == {name: ["export-controlled"]}
    everyone = json.loads(_cli(hub, "list", "--json").stdout)
    assert everyone[name] == ["export-controlled"]

    done = _cli(hub, "revoke", name, "export-controlled")
    assert done.returncode == 0, done.stderr
    assert "clearance-export-controlled" not in _groups(hub, name)
    assert json.loads(_cli(hub, "list", name, "--json").stdout) == {name: []}


def test_bad_requests_name_the_field_and_the_allowed_values(hub):
    done = _cli(hub, "grant", "admin", "secret")
    assert done.returncode == 1
    assert "marking='secret'" in done.stderr
    assert "controlled, export-controlled, proprietary" in done.stderr
    done = _cli(hub, "grant", "nobody-signed-up", "controlled")
    assert done.returncode == 1 and "user='nobody-signed-up' is not a hub user" in done.stderr


def test_an_ordinary_users_token_cannot_grant(hub):
    name = hub.new_user()
    done = _cli(hub, "grant", name, "controlled", token=hub.user_token(name))
    assert done.returncode == 1 and "refused" in done.stderr
    assert "clearance-controlled" not in _groups(hub, name)
