"""``genesis-lab up`` and ``down`` as an operator runs them: the site file's ports (two platforms on
one machine), sessions stopped with the platform, and the single-identity trial without root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from fixtures.hub import RunningHub, hub_base, write_site
from fixtures.net import free_port
from realparts import is_root, require

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(400)]

CLI = str(Path(sys.executable).parent / "genesis-lab")
DEMO_IDS = {
    "critical-materials/demo-controlled-magnet-coercivity",
    "semiconductors/demo-proprietary-etch-rates",
    "nuclear-energy/demo-export-controlled-cascade-separation",
}


def platform(
    base: Path, *, run_as: list[str] | None = None, owner: str | None = None
) -> RunningHub:
    """An unstarted ``genesis-lab up`` whose ports all come from its site file (internal ones 0)."""
    base.mkdir(parents=True)
    os.chmod(base, 0o755)
    (base / "home").mkdir()
    port = free_port()
    site = write_site(base / "site.yaml", extra_hub={"port": port, "hub_port": 0,
                                                      "proxy_api_port": 0})  # fmt: skip
    data = yaml.safe_load(site.read_text())
    data["service"] = {"port": 0, "demo_datasets": True}
    site.write_text(yaml.safe_dump(data))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GENESIS_", "JUPYTERHUB_", "PYTEST_"))}  # fmt: skip
    env.update(GENESIS_HOME=str(base / "home"), GENESIS_SITE_FILE=str(site))
    if owner:
        shutil.chown(base, owner)
        for path in base.rglob("*"):
            shutil.chown(path, owner)
    return RunningHub(base=base, site_file=site, port=port, hub_port=0, proxy_api_port=0,
                      env=env, command="up", run_as=run_as or [], ports_from_site=True)  # fmt: skip


def processes_of(account: str) -> list[str]:
    done = subprocess.run(["pgrep", "-a", "-u", account], capture_output=True, text=True)
    return done.stdout.splitlines()


def down(hub: RunningHub, run_as: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(run_as or []), CLI, "down"], env=hub.env, capture_output=True,
                          text=True, timeout=90, check=False)  # fmt: skip


def test_two_platforms_on_their_site_ports_and_down_stops_their_sessions():
    require(is_root(), "root (sessions as Unix accounts)", "run the tests as root")
    hubs = [platform(hub_base("up")) for _ in range(2)]
    try:
        for hub in hubs:
            hub.start()
        users = {}
        for hub in hubs:
            name = hub.new_user(f"up{uuid.uuid4().hex[:6]}")
            r = hub.spawn(name, {"allocation": "open-local", "memory": "512MiB"})
            assert r.status_code in (201, 202), r.text
            hub.wait_ready(name)
            users[hub.port] = name
        for hub in hubs:  # each answers on the port its site file names
            assert requests.get(f"{hub.url}/hub/health", timeout=10).status_code == 200
            account = f"jupyter-{users[hub.port]}"
            assert processes_of(account), f"no session process runs as {account}"
        first, second = hubs
        for hub in hubs:
            # an audited read just before down: only the service's shutdown checkpoint covers it
            token = hub.user_token(users[hub.port])
            read = requests.get(f"{hub.url}/services/genesis/api/catalog", timeout=30,
                                headers={"Authorization": f"token {token}"})  # fmt: skip
            assert read.status_code == 200, read.text
            done = down(hub)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "stopped the hub" in done.stdout
            assert hub.proc is not None and hub.proc.wait(10) is not None
            hub.proc = None
            assert processes_of(f"jupyter-{users[hub.port]}") == []
            # the genesis service stopped before its witness: its last checkpoint covers it all
            audit = subprocess.run([CLI, "audit", "verify", "--json"], env=hub.env,
                                   capture_output=True, text=True, timeout=60)  # fmt: skip
            report = json.loads(audit.stdout)
            assert report["ok"] and report["records"] > 0, audit.stdout + audit.stderr
            assert report["checkpointed_seq"] == report["records"], report
            if hub is first:  # the other platform is untouched by this one's down
                assert requests.get(f"{second.url}/hub/health", timeout=10).status_code == 200
                assert processes_of(f"jupyter-{users[second.port]}")
    finally:
        for hub in hubs:
            hub.stop()
            hub.close_sessions()
            shutil.rmtree(hub.base, ignore_errors=True)


def test_without_root_the_platform_is_a_single_identity_trial_serving_public_data():
    require(is_root(), "root (to create the unprivileged operator)", "run the tests as root")
    operator = f"gltrial{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", operator], check=True)
    base = hub_base("trial")
    run_as = ["/usr/sbin/runuser", "-u", operator, "--", "/usr/bin/env", f"HOME={base}"]
    hub = platform(base, run_as=run_as, owner=operator)
    try:
        hub.start()
        log = hub.log()
        assert "SINGLE-IDENTITY TRIAL" in log
        deadline = time.monotonic() + 30
        while "genesis service: single-identity trial" not in hub.log():
            assert time.monotonic() < deadline, hub.log()[-3000:]
            time.sleep(0.3)
        line = next(x for x in hub.log().splitlines() if "single-identity trial, serving" in x)
        assert "controlled, export-controlled, proprietary entries withheld" in line
        token = hub.ensure_admin_token()
        auth = {"Authorization": f"token {token}"}
        hub.api("POST", "/groups/clearance-controlled/users", token,
                json={"users": [hub.admin_user]}).raise_for_status()  # fmt: skip
        entries = requests.get(f"{hub.url}/services/genesis/api/catalog", headers=auth,
                               timeout=30).json()["entries"]  # fmt: skip
        assert entries and {e["marking"] for e in entries} == {"public"}
        assert not DEMO_IDS & {e["id"] for e in entries}
        demo = requests.get(f"{hub.url}/services/genesis/api/catalog/{sorted(DEMO_IDS)[0]}",
                            headers=auth, timeout=30)  # fmt: skip
        assert demo.status_code == 404
        public = requests.get(
            f"{hub.url}/services/genesis/api/catalog/nuclear-energy/neutron-scattering-lengths",
            headers=auth, timeout=30)  # fmt: skip
        assert public.status_code == 200
        done = down(hub, run_as)
        assert done.returncode == 0, done.stdout + done.stderr
        hub.proc.wait(10)
        hub.proc = None
        assert processes_of(operator) == []
    finally:
        hub.stop()
        hub.close_sessions()
        subprocess.run(["pkill", "-KILL", "-u", operator], check=False)
        subprocess.run(["userdel", operator], check=False)
        shutil.rmtree(base, ignore_errors=True)
