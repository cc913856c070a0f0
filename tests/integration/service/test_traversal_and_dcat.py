"""Path traversal never reads outside the data root; the DCAT-US export validates and agrees
with what the service enforces."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from svc_hub import DATASETS, MARKINGS, SECRET, USERS

pytestmark = pytest.mark.hub

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "dcat-us-1.1-catalog.schema.json"

ATTEMPTS = [
    "../../../secret.txt",
    "thickness/../../../../secret.txt",
    "%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.txt",
    "..%2f..%2f..%2fsecret.txt",
    "%252e%252e/%252e%252e/secret.txt",
    "..%5c..%5c..%5csecret.txt",
    "leak",  # a symlink in the store pointing out of the data root
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "thickness/%00.zarray",
    "./thickness/0.0",
    "thickness//0.0",
]


def raw_get(port: int, path: str, token: str) -> tuple[int, bytes]:
    """Send the path byte for byte (no client-side normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: token {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize("direct", [False, True], ids=["proxy", "direct"])
@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_traversal_never_leaves_the_data_root(service_hub, attempt, direct):
    hub = service_hub
    token = hub.token("c-export")
    port = hub.service_port if direct else hub.port
    for marking in ("public", "export-controlled"):
        path = f"/services/genesis/api/data/{DATASETS[marking]}/{attempt}"
        status, data = raw_get(port, path, token)
        assert SECRET not in data
        assert b"root:" not in data
        if status == 200:  # only a proxy that normalised './' or '//' into the store's own file
            assert attempt in ("./thickness/0.0", "thickness//0.0") and not direct
            assert data.endswith(hub.chunks[marking])
        else:
            assert status in (400, 404), (attempt, status, data[-300:])


def test_symlink_out_of_the_root_is_not_listed(service_hub):
    files = service_hub.get(f"api/data/{DATASETS['public']}", "vetted").json()["files"]
    assert "leak" not in files and "thickness/0.0" in files


@pytest.mark.parametrize("user", sorted(USERS))
def test_dcat_export_validates_and_agrees_with_enforcement(service_hub, user, tmp_path):
    hub = service_hub
    r = hub.get("api/dcat", user)
    assert r.status_code == 200
    doc = r.json()
    out = tmp_path / "catalog.json"
    out.write_text(json.dumps(doc))
    check = Path(sys.executable).parent / "check-jsonschema"
    res = subprocess.run([str(check), "--regex-variant", "python", "--schemafile", str(SCHEMA), str(out)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    by_id = {d["identifier"]: d for d in doc["dataset"]}
    level = {"public": "public", "controlled": "restricted public",
             "proprietary": "non-public", "export-controlled": "non-public"}  # fmt: skip
    for marking in MARKINGS:
        entry_id = DATASETS[marking]
        chunk = hub.get(f"api/data/{entry_id}/thickness/0.0", user)
        if entry_id not in by_id:
            assert chunk.status_code == 404  # hidden in the export and in the API
            assert marking in ("proprietary", "export-controlled")
            continue
        ds = by_id[entry_id]
        assert ds["accessLevel"] == level[marking]
        readable = chunk.status_code == 200
        # a distribution only for those who may read, and it works for them
        assert ("distribution" in ds) == readable, (user, marking)
        if readable:
            url = ds["distribution"][0]["accessURL"]
            listing = hub.get(url.split("/services/genesis/", 1)[1], user)
            assert listing.status_code == 200
        else:
            assert chunk.status_code == 403
            assert ds["accessLevel"] != "public"
    # the schema is not vacuous: a broken catalog fails it
    bad = dict(doc)
    bad["dataset"] = [{**doc["dataset"][0], "accessLevel": "secret"}]
    out.write_text(json.dumps(bad))
    res = subprocess.run([str(check), "--regex-variant", "python", "--schemafile", str(SCHEMA), str(out)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert res.returncode == 1
