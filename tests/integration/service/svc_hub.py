"""The genesis service as the project's own hub runs it (``genesis-lab hub``: nativeauthenticator,
configurable-http-proxy, the service and its roles from the hub plan), set up for the service
tests: users of every kind made through the hub's REST API with the first admin's token, and four
datasets (one per marking), small zarr stores under the hub's data root.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from fixtures.hub import RunningHub, _shutdown, start_hub

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
    """The running project hub seen from the service tests, with REST helpers."""

    hub: RunningHub
    chunks: dict[str, bytes]
    secret_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def port(self) -> int:
        return self.hub.port

    @property
    def service_port(self) -> int:
        return int(yaml.safe_load(self.hub.site_file.read_text())["service"]["port"])

    @property
    def service_url(self) -> str:
        """Through the proxy, as browsers reach it."""
        return f"{self.url}/services/genesis/"

    @property
    def direct_url(self) -> str:
        """The service's own port (same routes, no proxy), as sessions reach it."""
        return f"http://127.0.0.1:{self.service_port}/services/genesis/"

    @property
    def home(self) -> Path:
        return self.hub.base / "home"

    @property
    def data_root(self) -> Path:
        return self.home / "data"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def catalog_dir(self) -> Path:
        """The site's catalog folder, which the service re-reads every few seconds."""
        return self.home / "catalog"

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit" / "audit.jsonl"

    def hub_api(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.hub.api(method, path, self.hub.ensure_admin_token(), **kw)

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

    def log(self) -> str:
        return self.hub.log()

    def stop(self) -> None:
        _shutdown(self.hub)


def serve_test_datasets(hub: RunningHub, timeout: float = 30) -> ServiceHub:
    """Put the test datasets and users on a running project hub; returns once the service lists
    the datasets."""
    svc_hub = ServiceHub(hub=hub, chunks={}, secret_path=hub.base / "secret.txt")
    svc_hub.secret_path.write_bytes(SECRET)
    svc_hub.chunks = make_datasets(svc_hub.data_root, svc_hub.catalog_dir)
    # a symlink inside a readable store that points out of the data root
    leak = svc_hub.data_root / "site" / "wafer-public.zarr" / "leak"
    if not leak.is_symlink():
        leak.symlink_to(svc_hub.secret_path)
    for user, groups in USERS.items():
        if "vetted" in groups:  # signed up and approved: approval puts them in the vetted group
            page = hub.signup(user)
            assert "sent to the admin" in page.text, page.text[-1500:]
            hub.approve(user)
        r = svc_hub.hub_api("POST", f"/users/{user}")  # unvetted: known to the hub, never approved
        assert r.status_code in (201, 409), r.text
        svc_hub.set_groups(user, groups)
    deadline = time.monotonic() + timeout
    while svc_hub.get(f"api/catalog/{DATASETS['public']}", "vetted").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service never listed the test datasets:\n{hub.log()[-3000:]}")
        time.sleep(0.3)
    return svc_hub


def start_service_hub(base: Path) -> ServiceHub:
    """A project hub of its own with the test datasets (for benchmarks); ``stop()`` ends it."""
    return serve_test_datasets(start_hub(base))
