"""The hub on a real PostgreSQL (``hub.db_url``): the first admin, logins and spawns at once, a
restart that keeps sessions and logins, and the admin's password reset, all on the server."""

from __future__ import annotations

import concurrent.futures
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from fixtures.hub import _shutdown, hub_base, start_hub

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(400)]
FORM = {"allocation": "open-local", "memory": "512MiB"}


@pytest.fixture(scope="module")
def pg_hub(postgres):
    base = hub_base("pg-hub")
    hub = start_hub(base, extra_hub={"db_url": postgres.create_database("hub_tests")})
    yield hub
    _shutdown(hub)
    shutil.rmtree(base, ignore_errors=True)


def test_the_hub_keeps_its_state_in_postgres(pg_hub):
    hub = pg_hub
    assert not (hub.base / "home" / "state" / "hub" / "jupyterhub.sqlite").exists()
    assert "database: postgresql+psycopg://hub@127.0.0.1" in hub.log()  # the banner says so
    import sqlalchemy as sa
    import yaml

    engine = sa.create_engine(yaml.safe_load(hub.site_file.read_text())["hub"]["db_url"])
    try:
        with engine.connect() as conn:
            names = {r[0] for r in conn.execute(sa.text("SELECT name FROM users"))}
            infos = {r[0] for r in conn.execute(sa.text("SELECT username FROM users_info"))}
    finally:
        engine.dispose()
    assert "admin" in names and "admin" in infos


def test_concurrent_logins_and_spawns_then_a_restart_keeps_them(pg_hub):
    hub = pg_hub
    names = [hub.new_user() for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        browsers = dict(zip(names, pool.map(hub.login, names), strict=True))
        assert all("jupyterhub-hub-login" in b.cookies for b in browsers.values())
        answers = list(pool.map(lambda n: hub.spawn(n, FORM).status_code, names))
        assert set(answers) <= {201, 202}, answers
        list(pool.map(hub.wait_ready, names))

    def started(name: str) -> str:
        r = requests.get(f"{hub.url}/user/{name}/api/status", timeout=30,
                         headers={"Authorization": f"token {hub.user_token(name)}"})  # fmt: skip
        assert r.status_code == 200, (name, r.status_code)
        return r.json()["started"]

    before = {n: started(n) for n in names}
    try:
        hub.restart()
        for name in names:
            assert started(name) == before[name]  # the same server, re-attached
            page = browsers[name].get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
            assert page.status_code == 200, (name, page.status_code)
    finally:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(hub.stop_server, names))


def test_reset_password_writes_to_postgres(pg_hub):
    hub = pg_hub
    done = subprocess.run([str(Path(sys.executable).parent / "genesis-lab"), "admin",
                           "reset-password"], env=hub.env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = re.search(r"one-time password: (\S+)", done.stdout).group(1)
    signed_in = hub.login("admin", new)
    assert "jupyterhub-hub-login" in signed_in.cookies
    assert signed_in.login_response.url.split("?")[0].endswith("/hub/change-password")  # one-time
    hub.admin_password = hub.choose_password(signed_in, new)
