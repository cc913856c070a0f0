"""A real JupyterHub + configurable-http-proxy with the genesis service as a hub-managed service.

Users and tokens are made through the hub's REST API with an admin service token; four datasets
(one per marking) are small zarr stores under the data root. Shared by the service tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from fixtures.net import free_port
from realparts import require

REPO = Path(__file__).resolve().parents[3]
PROXY = REPO / ".proxy" / "node_modules" / ".bin" / "configurable-http-proxy"

MARKINGS = ("public", "controlled", "proprietary", "export-controlled")
DATASETS = {m: f"semiconductors/wafer-{m}" for m in MARKINGS}
USERS = {
    "unvetted": [],
    "vetted": ["vetted"],
    "c-controlled": ["vetted", "clearance-controlled"],
    "c-proprietary": ["vetted", "clearance-proprietary"],
    "c-export": ["vetted", "clearance-export-controlled"],
}
CLEARED = {
    "c-controlled": "controlled",
    "c-proprietary": "proprietary",
    "c-export": "export-controlled",
}
SECRET = b"TOP-SECRET-OUTSIDE-THE-DATA-ROOT"


def make_datasets(data_root: Path, catalog_dir: Path) -> dict[str, bytes]:
    """One small zarr store per marking, and the catalog YAML naming them; returns a sample chunk
    of each (its raw bytes) keyed by marking, to check that restricted bytes never leak."""
    import numpy as np
    import xarray as xr

    entries = []
    chunks: dict[str, bytes] = {}
    for i, marking in enumerate(MARKINGS):
        name = DATASETS[marking].split("/")[1]
        store = data_root / "site" / f"{name}.zarr"
        rng = np.random.default_rng(i)
        ds = xr.Dataset(
            {"thickness": (("x", "y"), rng.normal(100 + i, 1, (40, 30)))},
            coords={"x": np.arange(40), "y": np.arange(30)},
        )
        ds["thickness"].attrs["units"] = "nm"
        ds.to_zarr(store, mode="w", consolidated=True, zarr_format=2,
                    encoding={"thickness": {"chunks": (10, 10), "compressors": None}})  # fmt: skip
        chunks[marking] = (store / "thickness" / "0.0").read_bytes()
        entries.append(
            {
                "id": DATASETS[marking],
                "kind": "dataset",
                "domain": "semiconductors",
                "title": f"Wafer thickness map ({marking})",
                "description": f"Synthetic wafer thickness, zebraword{i}, marked {marking}.",
                "keyword": ["wafer", "thickness", f"kw-{marking}"],
                "modified": "2026-01-01",
                "publisher": {"name": "Genesis test fab"},
                "contactPoint": {"fn": "Fab desk", "hasEmail": "fab@example.org"},
                "license": "https://creativecommons.org/publicdomain/zero/1.0/",
                "distribution": [
                    {
                        "downloadURL": f"site/{name}.zarr",
                        "format": "zarr",
                        "mediaType": "application/x-zarr",
                    }
                ],
                "provenance": {
                    "source": "synthetic",
                    "agency": "Genesis",
                    "citation": "test",
                    "version": "1",
                },
                "marking": marking,
            }
        )
    catalog_dir.mkdir(parents=True, exist_ok=True)
    (catalog_dir / "wafers.yaml").write_text(yaml.safe_dump({"entries": entries}, sort_keys=False))
    return chunks


@dataclass
class ServiceHub:
    """The running hub and service, with REST helpers."""

    base: Path
    port: int
    service_port: int
    admin_token: str
    data_root: Path
    state_dir: Path
    catalog_dir: Path
    chunks: dict[str, bytes]
    secret_path: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        """Through the proxy, as users reach it."""
        return f"{self.url}/services/genesis/"

    @property
    def direct_url(self) -> str:
        """The service's own port (same routes, no proxy)."""
        return f"http://127.0.0.1:{self.service_port}/services/genesis/"

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit" / "audit.jsonl"

    def hub_api(self, method: str, path: str, **kw: Any) -> requests.Response:
        r = requests.request(method, f"{self.url}/hub/api{path}",
                             headers={"Authorization": f"token {self.admin_token}"},
                             timeout=30, **kw)  # fmt: skip
        return r

    def new_token(self, user: str, **body: Any) -> str:
        r = self.hub_api("POST", f"/users/{user}/tokens", json={"note": "genesis tests", **body})
        r.raise_for_status()
        return r.json()["token"]

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.new_token(user)
        return self.tokens[user]

    def get(self, path: str, user: str | None = None, *, token: str | None = None,
            direct: bool = False, **kw: Any) -> requests.Response:  # fmt: skip
        headers = kw.pop("headers", {})
        tok = token or (self.token(user) if user else None)
        if tok:
            headers["Authorization"] = f"token {tok}"
        base = self.direct_url if direct else self.service_url
        return requests.get(base + path, headers=headers, timeout=30, **kw)

    def set_groups(self, user: str, groups: list[str]) -> None:
        current = self.hub_api("GET", f"/users/{user}").json()["groups"]
        for g in set(current) - set(groups):
            self.hub_api("DELETE", f"/groups/{g}/users", json={"users": [user]}).raise_for_status()
        for g in set(groups) - set(current):
            self.hub_api("POST", f"/groups/{g}/users", json={"users": [user]}).raise_for_status()

    def start(self, config: Path, timeout: float = 60) -> None:
        with open(self.base / "hub.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.base, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited:\n{self.log()[-4000:]}")
            try:
                hub_ok = requests.get(f"{self.url}/hub/health", timeout=2).status_code == 200
                svc = requests.get(f"{self.direct_url}api/catalog", timeout=2).status_code
                if hub_ok and svc == 401:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"hub/service not up in {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return (self.base / "hub.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        pid = self.base / "proxy.pid"
        if pid.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid.read_text()), signal.SIGTERM)
        self.proc = None


def start_service_hub(base: Path) -> ServiceHub:
    require(PROXY.exists() or shutil.which("configurable-http-proxy") is not None,
            "configurable-http-proxy", "run `make proxy`")  # fmt: skip
    from genesis_lab.service.hubconfig import (
        genesis_custom_scopes,
        genesis_roles,
        genesis_service,
        session_environment,
    )
    from genesis_lab.settings import load_settings

    base.mkdir(parents=True, exist_ok=True)
    home = base / "genesis-home"
    data_root = home / "data"
    catalog_dir = base / "catalog"
    chunks = make_datasets(data_root, catalog_dir)
    secret = base / "secret.txt"
    secret.write_bytes(SECRET)
    # a symlink inside a readable store that points out of the data root
    (data_root / "site" / "wafer-public.zarr" / "leak").symlink_to(secret)
    settings = load_settings(home=home, catalog_paths=[catalog_dir], challenge_paths=[])
    port, hub_port, proxy_api, service_port = (free_port() for _ in range(4))
    admin_token = secrets.token_hex(32)
    service = genesis_service(port=service_port, settings=settings)
    service["environment"]["GENESIS_CHALLENGE_PATHS"] = ""
    url = f"http://127.0.0.1:{port}/"
    config = {
        "bind_url": url,
        "hub_port": hub_port,
        "proxy_api": f"http://127.0.0.1:{proxy_api}",
        "proxy_cmd": [str(PROXY) if PROXY.exists() else "configurable-http-proxy"],
        "base": str(base),
        "services": [{"name": "tester", "api_token": admin_token}, service],
        "roles": [
            *genesis_roles(),
            {
                "name": "tester",
                "services": ["tester"],
                "scopes": [
                    "admin:users",
                    "admin:groups",
                    "tokens",
                    "list:users",
                    "admin:servers",
                    "access:servers",
                    "access:services",
                ],
            },
        ],
        "custom_scopes": genesis_custom_scopes(),
        "groups": sorted({g for gs in USERS.values() for g in gs}),
        "users": sorted(USERS),
        "session_env": {**session_environment(url), **service["environment"]},
        "singleuser": str(Path(sys.executable).parent / "jupyterhub-singleuser"),
    }
    cfg = base / "jupyterhub_config.py"
    cfg.write_text(
        "import json\n"
        f"k = json.loads({json.dumps(json.dumps(config))})\n"
        "c = get_config()  # noqa: F821\n"
        "c.JupyterHub.bind_url = k['bind_url']\n"
        "c.JupyterHub.hub_ip = '127.0.0.1'\n"
        "c.JupyterHub.hub_port = k['hub_port']\n"
        "c.ConfigurableHTTPProxy.api_url = k['proxy_api']\n"
        "c.ConfigurableHTTPProxy.command = k['proxy_cmd']\n"
        "c.ConfigurableHTTPProxy.pid_file = k['base'] + '/proxy.pid'\n"
        "c.JupyterHub.db_url = 'sqlite:///' + k['base'] + '/hub.sqlite'\n"
        "c.JupyterHub.cookie_secret_file = k['base'] + '/cookie_secret'\n"
        "c.JupyterHub.authenticator_class = 'null'\n"
        "c.Authenticator.allow_all = True\n"
        "c.JupyterHub.spawner_class = 'simple'\n"
        "c.Spawner.cmd = [k['singleuser']]\n"
        "c.Spawner.args = ['--allow-root']\n"
        "c.Spawner.environment = k['session_env']\n"
        "c.Spawner.notebook_dir = k['base']\n"
        "c.Spawner.default_url = '/lab'\n"
        "c.JupyterHub.services = k['services']\n"
        "c.JupyterHub.load_roles = k['roles']\n"
        "c.JupyterHub.custom_scopes = k['custom_scopes']\n"
        "c.JupyterHub.load_groups = {g: {'users': []} for g in k['groups']}\n"
    )
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GENESIS_", "JUPYTERHUB_", "PYTEST_"))}  # fmt: skip
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    hub = ServiceHub(
        base=base, port=port, service_port=service_port, admin_token=admin_token,
        data_root=data_root, state_dir=home / "state", catalog_dir=catalog_dir, chunks=chunks,
        secret_path=secret, env=env,
    )  # fmt: skip
    hub.start(cfg)
    for user, groups in USERS.items():
        hub.hub_api("POST", f"/users/{user}").raise_for_status()
        hub.set_groups(user, groups)
    return hub
