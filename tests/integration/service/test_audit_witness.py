"""AU-9(3) on the project's hub: the genesis service checkpoints its audit log to the audit witness
(a hub-managed service of its own); once the log is removed behind its back, data is refused with
a 503 that names the fix while public catalog metadata is still served, `genesis-lab audit verify`
names the first bad record, and `genesis-lab audit reset` brings the service back."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from svc_hub import DATASETS

from genesis_lab.access.checkpoints import WitnessBook

pytestmark = pytest.mark.hub

CHUNK = "thickness/0.0"


def wait_for(what: str, cond, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def cli(hub, *args: str) -> subprocess.CompletedProcess:
    """`genesis-lab audit ...` as the administrator runs it on the hub's machine."""
    exe = str(Path(sys.executable).parent / "genesis-lab")
    return subprocess.run([exe, "audit", *args], env=hub.hub.env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def book_of(hub) -> WitnessBook:
    return WitnessBook(hub.state_dir / "audit-witness")


def test_checkpoints_reach_the_witness_and_a_removed_log_stops_data(service_hub):
    hub = service_hub
    public = f"api/data/{DATASETS['public']}/{CHUNK}"
    controlled = f"api/data/{DATASETS['controlled']}/{CHUNK}"
    for _ in range(3):
        assert hub.get(public, "vetted").status_code == 200
    written = hub.audit_path.read_bytes().count(b"\n")
    book = book_of(hub)
    latest = wait_for("a checkpoint covering the records", lambda: (
        (lt := book.latest())["seq"] >= written and lt))  # fmt: skip
    # the checkpoint is the service's: its head is the log's record at that seq, and it verifies
    # with the public key the service exported next to its private key
    lines = hub.audit_path.read_bytes().splitlines()
    assert json.loads(lines[latest["seq"] - 1])["hash"] == latest["head"]
    exported = (hub.audit_path.parent / "checkpoint-key.pub").read_text().strip()
    assert book.pinned_key() == exported
    assert (hub.audit_path.parent / "checkpoint-key.pem").stat().st_mode & 0o777 == 0o600
    cps = [e for e in book.entries() if e["type"] == "checkpoint"]
    payload = json.dumps({k: cps[-1][k] for k in ("epoch", "head", "seq", "time")},
                         sort_keys=True, separators=(",", ":")).encode()  # fmt: skip
    Ed25519PublicKey.from_public_bytes(base64.b64decode(exported)).verify(
        base64.b64decode(cps[-1]["sig"]), payload
    )
    ok = cli(hub, "verify")
    assert ok.returncode == 0 and "witness checkpoints of epoch" in ok.stdout, ok.stderr

    # the service's account removes the log and its head file
    hub.audit_path.unlink()
    hub.audit_path.with_name("audit.jsonl.head").unlink()
    refused = hub.get(public, "vetted")
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error"] == "audit-log-failed"
    assert "genesis-lab audit verify" in body["message"]
    assert "genesis-lab audit reset" in body["message"]
    assert hub.chunks["public"] not in refused.content
    cleared = hub.get(controlled, "c-controlled")
    assert cleared.status_code == 503 and hub.chunks["controlled"] not in cleared.content
    listing = hub.get("api/catalog", "c-controlled")
    assert listing.status_code == 200
    assert {e["marking"] for e in listing.json()["entries"]} == {"public"}
    assert hub.get(f"api/catalog/{DATASETS['public']}", "vetted").status_code == 200
    assert hub.get(f"api/catalog/{DATASETS['controlled']}", "c-controlled").status_code == 503
    assert hub.get("api/dcat", "vetted").status_code == 200
    assert not hub.audit_path.exists()  # the evidence is left as found

    bad = cli(hub, "verify")
    assert bad.returncode == 1
    assert "first bad sequence number: 0" in bad.stderr, bad.stderr
    assert f"checkpoint of {latest['seq']} records" in bad.stderr

    reset = cli(hub, "reset", "--reason", "test: log removed by the service account")
    assert reset.returncode == 0, reset.stderr
    wait_for("data served again after the reset",
             lambda: hub.get(public, "vetted").status_code == 200)  # fmt: skip
    assert hub.get(controlled, "c-controlled").content == hub.chunks["controlled"]
    wait_for("a checkpoint of the new epoch", lambda: book_of(hub).latest()["seq"] > 0)
    after = cli(hub, "verify")
    assert after.returncode == 0 and "epoch 1" in after.stdout, after.stdout + after.stderr


ATTACK = r"""
import asyncio, json, os, sys
from pathlib import Path
from genesis_lab.access.checkpoints import load_signing_key, sign_checkpoint
from genesis_lab.service.witness import ask_witness
audit, witness = Path(sys.argv[1]), Path(sys.argv[2])
book = witness / "checkpoints.jsonl"
out = {}
for name, act in (("append", lambda: open(book, "ab")), ("unlink", lambda: book.unlink()),
                  ("rename", lambda: witness.rename(witness.with_name("elsewhere")))):
    try:
        act()
        out[name] = "done"
    except PermissionError:
        out[name] = "refused"
key = load_signing_key(audit)  # the service's own key: it may sign, but not rewrite the past
latest = asyncio.run(ask_witness(witness / "witness.sock", {"op": "latest"}))
for name, seq in (("backwards", latest["seq"] - 1), ("contradicts", latest["seq"])):
    cp = sign_checkpoint(key, epoch=latest["epoch"], seq=seq, head="e" * 64)
    reply = asyncio.run(ask_witness(witness / "witness.sock",
                                    {"op": "checkpoint", "checkpoint": cp.to_dict()}))
    out[name] = reply.get("code") or "accepted"
print(json.dumps(out))
"""


def test_the_service_account_cannot_rewrite_past_checkpoints(service_hub):
    """As the hub runs here: the service under an account of its own, the witness as root."""
    hub = service_hub
    assert hub.get(f"api/catalog/{DATASETS['public']}", "vetted").status_code == 200
    wait_for("a checkpoint", lambda: book_of(hub).latest()["seq"] >= 2)
    service_uid = hub.audit_path.parent.stat().st_uid
    book = book_of(hub).path
    if os.geteuid() != 0:  # a single-identity trial (item 3): nothing here to keep apart
        assert service_uid == os.geteuid()
        return
    assert service_uid != 0 and book.stat().st_uid == 0
    before = book.read_bytes()
    attack = subprocess.run(
        [sys.executable, "-c", ATTACK, str(hub.audit_path.parent), str(book.parent)],
        user=service_uid, group=hub.audit_path.parent.stat().st_gid, extra_groups=[],
        capture_output=True, text=True, timeout=60, check=False,
        cwd="/", env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert attack.returncode == 0, attack.stderr
    assert json.loads(attack.stdout) == {
        "append": "refused", "unlink": "refused", "rename": "refused",
        "backwards": "backwards", "contradicts": "contradicts",
    }  # fmt: skip
    assert book.read_bytes().startswith(before)
    assert cli(hub, "verify").returncode == 0
