"""The hub restarted under load: five running sessions survive, and nobody logs in again."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(300)]


def test_hub_restart_keeps_five_sessions_and_their_logins(hub):
    names = [hub.new_user() for _ in range(5)]
    browsers = {name: hub.login(name) for name in names}
    for name in names:
        r = hub.spawn(name, {"allocation": "open-local", "memory": "512MiB"})
        assert r.status_code in (201, 202), r.text
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        list(pool.map(hub.wait_ready, names))

    def status(name: str) -> dict:
        r = requests.get(f"{hub.url}/user/{name}/api/status",
                         headers={"Authorization": f"token {hub.user_token(name)}"}, timeout=30)  # fmt: skip
        assert r.status_code == 200, (name, r.status_code)
        return r.json()

    started = {name: status(name)["started"] for name in names}
    try:
        hub.restart()
        for name in names:
            assert status(name)["started"] == started[name]  # same process, not a new one
            home = browsers[name].get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
            assert home.status_code == 200, (name, home.status_code, home.headers.get("Location"))
            assert hub.api("GET", f"/users/{name}", hub.ensure_admin_token()).json()["servers"][""][
                "ready"
            ]
    finally:
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            list(pool.map(hub.stop_server, names))
