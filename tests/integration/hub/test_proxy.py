"""The hub's Traefik proxy on the shared hub: a session and the genesis service through it, its
files out of a session account's reach, its sockets on loopback only, a restart that stops the
old traefik and keeps the routes, and a hub killed outright that leaves nothing running."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests
import toml
import yaml
from fixtures.hub import RunningHub
from realparts import is_root, require

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(300)]

FORM = {"allocation": "open-local", "memory": "512MiB"}
LISTEN = "0A"


def state_dir(hub: RunningHub) -> Path:
    return hub.base / "home" / "state" / "hub"


def traefik_pid(hub: RunningHub) -> int:
    """The proxy's pid from its pid file, checked to be traefik on this hub's configuration."""
    pid = int((state_dir(hub) / "proxy.pid").read_text())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert Path(argv[0]).name == "traefik", argv
    assert str(state_dir(hub) / "traefik.toml") in argv, argv
    return pid


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening(pid: int) -> set[tuple[str, int]]:
    """``(address, port)`` of every TCP socket ``pid`` listens on, from /proc/net/tcp{,6}."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != LISTEN or fields[9] not in inodes:
                continue
            hex_addr, hex_port = fields[1].split(":")
            if len(hex_addr) == 8:
                address = ".".join(str(b) for b in reversed(bytes.fromhex(hex_addr)))
            else:
                address = f"ipv6:{hex_addr}"
            found.add((address, int(hex_port, 16)))
    return found


@pytest.fixture(scope="module")
def proxied_user(hub: RunningHub) -> str:
    """A user with a running session on the shared hub."""
    name = hub.new_user()
    r = hub.spawn(name, FORM)
    assert r.status_code in (201, 202), r.text
    hub.wait_ready(name)
    yield name
    hub.stop_server(name)


def status(hub: RunningHub, name: str) -> requests.Response:
    return requests.get(f"{hub.url}/user/{name}/api/status", timeout=30,
                        headers={"Authorization": f"token {hub.user_token(name)}"})  # fmt: skip


def test_a_session_and_the_service_answer_through_traefik(hub, proxied_user):
    traefik_pid(hub)
    assert status(hub, proxied_user).status_code == 200
    assert hub.run_code(proxied_user, "print(6 * 7)").strip() == "42"  # a websocket through it
    auth = {"Authorization": f"token {hub.user_token(proxied_user)}"}
    service_port = yaml.safe_load(hub.site_file.read_text())["service"]["port"]
    direct = requests.get(f"http://127.0.0.1:{service_port}/services/genesis/api/catalog",
                          headers=auth, timeout=30)  # fmt: skip
    proxied = requests.get(f"{hub.url}/services/genesis/api/catalog", headers=auth, timeout=30)
    assert proxied.status_code == direct.status_code == 200
    assert proxied.json() == direct.json() and proxied.json()["entries"]


def api_port(hub: RunningHub) -> int:
    static = toml.loads((state_dir(hub) / "traefik.toml").read_text())
    return int(static["entryPoints"]["auth_api"]["address"].rsplit(":", 1)[1])


def test_traefik_listens_on_loopback_only(hub, proxied_user):
    assert listening(traefik_pid(hub)) == {("127.0.0.1", hub.port), ("127.0.0.1", api_port(hub))}


def test_traefiks_api_wants_its_password_and_is_not_on_the_public_port(hub, proxied_user):
    api = f"http://127.0.0.1:{api_port(hub)}/api/http/routers"
    assert requests.get(api, timeout=10).status_code == 401
    assert requests.get(api, auth=("jupyterhub", "guess"), timeout=10).status_code == 401
    for path in ("/api/http/routers", "/dashboard/"):  # not on the public port either
        r = requests.get(f"{hub.url}{path}", timeout=10, allow_redirects=False)
        assert r.status_code != 200 and "route_api" not in r.text, (path, r.status_code)


def test_a_session_account_cannot_read_the_proxy_files(hub, proxied_user):
    require(is_root(), "root (sessions as Unix accounts)", "run the tests as root")
    routes = state_dir(hub) / "traefik-routes.toml"
    dynamic = toml.loads(routes.read_text())
    assert dynamic["http"]["middlewares"]["auth_api"]["basicAuth"]["users"]  # the API's hash
    assert any(
        f"/user/{proxied_user}/" in r["routespec"] for r in dynamic["jupyterhub"]["routes"].values()
    )
    account = f"jupyter-{proxied_user}"
    for path in (routes, state_dir(hub) / "traefik.toml", state_dir(hub) / "proxy.pid"):
        done = subprocess.run(["/usr/sbin/runuser", "-u", account, "--", "cat", str(path)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode != 0 and "Permission denied" in done.stderr, (path, done)


def test_a_hub_restart_stops_its_traefik_and_keeps_the_routes(hub, proxied_user):
    before = traefik_pid(hub)
    started = status(hub, proxied_user).json()["started"]
    hub.stop()
    deadline = time.monotonic() + 10
    while alive(before):
        assert time.monotonic() < deadline, f"traefik (pid {before}) outlived its hub"
        time.sleep(0.1)
    hub.start()
    assert traefik_pid(hub) != before
    r = status(hub, proxied_user)
    assert r.status_code == 200 and r.json()["started"] == started  # the same session, reached


def test_a_hub_killed_outright_leaves_nothing_running_and_the_next_one_starts(hub, proxied_user):
    """No clean-up runs in a hub killed with SIGKILL: its traefik and its services (the genesis
    service, its witness, the scheduler) must end by themselves, or they keep the ports and the
    schedules the next hub's own need; the routes file it leaves must not lock the next one out
    of traefik's API. The session survives, as in a restart."""
    from fixtures.hub import _managed_services

    started = status(hub, proxied_user).json()["started"]
    proxy = psutil.Process(traefik_pid(hub))
    services = _managed_services(hub.proc.pid)
    names = " ".join(" ".join(p.cmdline()) for p in services)
    assert "genesis_lab.service" in names and "scheduler" in names, names
    hub.proc.kill()
    hub.proc.wait(10)
    hub.proc = None
    _, alive = psutil.wait_procs([proxy, *services], timeout=15)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
    assert "auth_api" in (state_dir(hub) / "traefik-routes.toml").read_text()  # left behind
    hub.start()
    r = status(hub, proxied_user)
    assert r.status_code == 200 and r.json()["started"] == started
    auth = {"Authorization": f"token {hub.user_token(proxied_user)}"}
    deadline = time.monotonic() + 60  # the hub answers before its services have started
    while True:
        catalog = requests.get(f"{hub.url}/services/genesis/api/catalog", headers=auth, timeout=30)
        if catalog.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert catalog.status_code == 200, catalog.text
    restarted = _managed_services(hub.proc.pid)
    assert "genesis_lab.service" in " ".join(" ".join(p.cmdline()) for p in restarted)
