"""Signed checkpoints and the witness book: every tamper case of NIST AU-9(3) is caught once the
log is compared with the witness, including the ones a recomputed hash chain hides."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from genesis_lab.access.audit import AuditLog, reset_log, verify
from genesis_lab.access.checkpoints import (
    Checkpoint,
    WitnessBook,
    WitnessRefusal,
    load_signing_key,
    sign_checkpoint,
    signature_ok,
    unsafe_ancestors,
)

N = 12
EVERY = 4  # the service checkpoints every 4 records here: at seq 4, 8 and 12


def sha256_line(record: dict) -> str:
    """The chain's hash, written out here as the format defines it (not taken from the code)."""
    body = {k: v for k, v in record.items() if k != "hash"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode()).hexdigest()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def site(tmp_path, key):
    """A log of 12 records with a checkpoint every 4 at the witness, as the service leaves them."""
    log = AuditLog(tmp_path / "audit" / "audit.jsonl")
    witness = tmp_path / "witness"
    book = WitnessBook(witness)
    for i in range(N):
        rec = log.append(event_type="data.read", where=f"/d/{i}", source="::1",
                         outcome="success", identity=f"user{i % 3}", dataset="a/b")  # fmt: skip
        if (i + 1) % EVERY == 0:
            book.accept(sign_checkpoint(key, epoch=0, seq=i + 1, head=rec["hash"]))
    assert verify(log.path, witness=witness).ok
    return log, witness


def lines(log: AuditLog) -> list[dict]:
    return [json.loads(raw) for raw in log.path.read_bytes().splitlines()]


def head_path(log: AuditLog) -> Path:
    return log.path.with_name(log.path.name + ".head")


def rewrite(log: AuditLog, records: list[dict], *, recompute: bool, head: bool = True) -> None:
    """Write ``records`` back as an attacker with write access would: optionally renumbered and
    re-chained, with a head file that agrees with the result."""
    prev = "0" * 64
    out = []
    for i, rec in enumerate(records):
        rec = dict(rec)
        if recompute:
            rec["seq"], rec["prev_hash"] = i, prev
            rec["hash"] = sha256_line(rec)
        prev = rec["hash"]
        out.append(json.dumps(rec, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    data = b"".join(out)
    log.path.write_bytes(data)
    if head:
        head_path(log).write_text(json.dumps({"count": len(out), "size": len(data), "hash": prev}))
    else:
        head_path(log).unlink(missing_ok=True)


def check(log, witness, first_bad: int, *, chain_alone_sees_it: bool) -> None:
    report = verify(log.path, witness=witness)
    assert not report.ok
    assert report.first_bad_seq == first_bad, report.problems
    assert verify(log.path).ok is not chain_alone_sees_it


def test_edited_record(site):
    log, witness = site
    recs = lines(log)
    recs[5]["identity"] = "someone-else"
    rewrite(log, recs, recompute=False)
    check(log, witness, 5, chain_alone_sees_it=True)


def test_edited_record_with_the_chain_recomputed(site):
    log, witness = site
    recs = lines(log)
    recs[5]["identity"] = "someone-else"
    rewrite(log, recs, recompute=True)
    # records 0-3 match the checkpoint at seq 4; the checkpoint at seq 8 no longer does
    check(log, witness, 4, chain_alone_sees_it=False)


def test_deleted_record_with_the_chain_recomputed(site):
    log, witness = site
    recs = lines(log)
    del recs[9]
    rewrite(log, recs, recompute=True)
    # the log now ends before the checkpoint at seq 12; records from the one at seq 8 on are
    # unconfirmed (a record deleted in the middle and one cut off the end look alike)
    check(log, witness, 8, chain_alone_sees_it=False)
    problems = " ".join(p["problem"] for p in verify(log.path, witness=witness).problems)
    assert "12 records" in problems and "holds 11" in problems


def test_deleted_first_record_with_the_chain_recomputed(site):
    log, witness = site
    recs = lines(log)
    del recs[0]
    rewrite(log, recs, recompute=True)
    check(log, witness, 0, chain_alone_sees_it=False)


# cut to 6 records: the head (when kept) or its absence names seq 6; a head rewritten to match
# leaves only the witness, whose checkpoint at 4 still matches and at 8 cannot: from 4 on, the
# records cannot be vouched for


def test_truncated_with_its_head(site):
    log, witness = site
    rewrite(log, lines(log)[:6], recompute=False, head=False)
    head_path(log).write_text(json.dumps({"count": N, "size": 10**6, "hash": "f" * 64}))
    check(log, witness, 6, chain_alone_sees_it=True)


def test_truncated_and_head_deleted(site):
    log, witness = site
    rewrite(log, lines(log)[:6], recompute=False, head=False)
    check(log, witness, 6, chain_alone_sees_it=True)


def test_truncated_and_head_rewritten_to_match(site):
    log, witness = site
    rewrite(log, lines(log)[:6], recompute=False, head=True)
    check(log, witness, 4, chain_alone_sees_it=False)


def test_truncated_to_zero_and_head_deleted(site):
    log, witness = site
    log.path.write_bytes(b"")
    head_path(log).unlink()
    check(log, witness, 0, chain_alone_sees_it=False)


def test_deleted_log_with_its_head_kept(site):
    log, witness = site
    log.path.unlink()
    check(log, witness, 0, chain_alone_sees_it=True)


def test_deleted_log_and_head(site):
    log, witness = site
    log.path.unlink()
    head_path(log).unlink()
    check(log, witness, 0, chain_alone_sees_it=False)


def test_reordered_records(site):
    log, witness = site
    recs = lines(log)
    recs[6], recs[7] = recs[7], recs[6]
    rewrite(log, recs, recompute=False)
    check(log, witness, 6, chain_alone_sees_it=True)


def test_reordered_records_with_the_chain_recomputed(site):
    log, witness = site
    recs = lines(log)
    recs[6], recs[7] = recs[7], recs[6]
    rewrite(log, recs, recompute=True)
    check(log, witness, 4, chain_alone_sees_it=False)


def test_records_after_the_last_checkpoint_are_only_chained(site):
    """The window AU-9(3) leaves: a recomputed tail after the last checkpoint is not caught."""
    log, witness = site
    log.append(event_type="x", where="w", source="s", outcome="success", identity="i")
    recs = lines(log)
    recs[-1]["identity"] = "other"
    rewrite(log, recs, recompute=True)
    assert verify(log.path, witness=witness).ok


def test_a_forged_checkpoint_in_the_book_is_reported(site):
    log, witness = site
    book = WitnessBook(witness)
    other = Ed25519PrivateKey.generate()
    with open(book.path, "ab") as fh:
        fh.write(json.dumps(sign_checkpoint(other, epoch=0, seq=3, head="1" * 64).to_dict())
                 .encode() + b"\n")  # fmt: skip
    report = verify(log.path, witness=witness)
    assert not report.ok and "not signed by the pinned service key" in report.problems[0]["problem"]


def test_signature_is_ed25519_over_the_canonical_payload():
    key = Ed25519PrivateKey.generate()
    cp = sign_checkpoint(key, epoch=2, seq=7, head="c" * 64)
    payload = json.dumps(
        {"epoch": 2, "head": "c" * 64, "seq": 7, "time": cp.time}, sort_keys=True,
        separators=(",", ":"),
    ).encode()  # fmt: skip
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp.key))
    public.verify(base64.b64decode(cp.sig), payload)  # raises if not
    assert signature_ok(cp)
    for changed in (
        Checkpoint(2, 8, cp.head, cp.time, cp.key, cp.sig),
        Checkpoint(2, 7, "d" * 64, cp.time, cp.key, cp.sig),
        Checkpoint(3, 7, cp.head, cp.time, cp.key, cp.sig),
        Checkpoint(2, 7, cp.head, "2020-01-01T00:00:00+00:00", cp.key, cp.sig),
    ):
        assert not signature_ok(changed)
    other = Ed25519PrivateKey.generate()
    assert not signature_ok(cp, sign_checkpoint(other, epoch=0, seq=1, head="0" * 64).key)


def test_the_key_is_private_to_its_owner_and_reused(tmp_path):
    key = load_signing_key(tmp_path)
    assert (tmp_path / "checkpoint-key.pem").stat().st_mode & 0o777 == 0o600
    again = load_signing_key(tmp_path)
    cp = sign_checkpoint(again, epoch=0, seq=1, head="0" * 64)
    assert signature_ok(cp, (tmp_path / "checkpoint-key.pub").read_text().strip())
    assert signature_ok(sign_checkpoint(key, epoch=0, seq=1, head="0" * 64), cp.key)


def test_the_book_refuses_what_would_rewrite_the_past(tmp_path):
    book = WitnessBook(tmp_path)
    key = Ed25519PrivateKey.generate()
    book.accept(sign_checkpoint(key, epoch=0, seq=5, head="a" * 64))
    book.accept(sign_checkpoint(key, epoch=0, seq=9, head="b" * 64))
    cases = {
        "backwards": sign_checkpoint(key, epoch=0, seq=3, head="c" * 64),
        "contradicts": sign_checkpoint(key, epoch=0, seq=9, head="d" * 64),
        "wrong-key": sign_checkpoint(Ed25519PrivateKey.generate(), epoch=0, seq=20, head="e" * 64),
        "stale-epoch": sign_checkpoint(key, epoch=1, seq=20, head="e" * 64),
    }
    forged = sign_checkpoint(key, epoch=0, seq=20, head="e" * 64)
    cases["bad-signature"] = Checkpoint(0, 21, forged.head, forged.time, forged.key, forged.sig)
    for code, cp in cases.items():
        with pytest.raises(WitnessRefusal) as err:
            book.accept(cp)
        assert err.value.code == code
    size = book.path.stat().st_size
    book.accept(sign_checkpoint(key, epoch=0, seq=9, head="b" * 64))  # a repeat: not written again
    assert book.path.stat().st_size == size
    fresh = WitnessBook(tmp_path)  # another process reading the same book agrees
    assert fresh.latest() == {**book.latest(), "seq": 9, "head": "b" * 64}
    assert len([e for e in fresh.entries() if e["type"] == "checkpoint"]) == 2


def test_a_reset_starts_a_new_epoch_and_keeps_the_evidence(site, key):
    log, witness = site
    log.path.unlink()
    assert not verify(log.path, witness=witness).ok
    done = reset_log(log.path, witness, reason="log deleted, investigated", who="root")
    assert done["epoch"] == 1 and "audit.jsonl.head" in done["moved"]
    evidence = Path(done["evidence"])
    assert json.loads((evidence / "verify.json").read_text())["first_bad_seq"] == 0
    assert verify(log.path, witness=witness).ok  # epoch 1 holds no checkpoint yet
    log2 = AuditLog(log.path)
    rec = log2.append(event_type="x", where="w", source="s", outcome="success", identity="i")
    book = WitnessBook(witness)
    with pytest.raises(WitnessRefusal, match="epoch 0, the witness is at epoch 1"):
        book.accept(sign_checkpoint(key, epoch=0, seq=13, head=rec["hash"]))
    other = Ed25519PrivateKey.generate()
    with pytest.raises(WitnessRefusal, match="accepts only"):  # the key stays pinned
        book.accept(sign_checkpoint(other, epoch=1, seq=1, head=rec["hash"]))
    book.accept(sign_checkpoint(key, epoch=1, seq=1, head=rec["hash"]))
    assert verify(log.path, witness=witness).checkpoints == 1
    with pytest.raises(ValueError, match="reason"):
        reset_log(log.path, witness, reason=" ", who="root")


def test_unsafe_ancestors_name_a_folder_others_may_write(tmp_path):
    safe = tmp_path / "safe"
    safe.mkdir(mode=0o755)
    assert unsafe_ancestors(safe) == []
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert any("shared is writable by group or others" in p for p in unsafe_ancestors(shared))
    assert unsafe_ancestors(safe, owners={12345}) != []


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from genesis_lab.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "audit", *args],
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_cli_names_the_first_bad_sequence_number_and_resets(site):
    log, witness = site
    recs = lines(log)
    del recs[9]
    rewrite(log, recs, recompute=True)
    where = ["--log", str(log.path), "--witness", str(witness)]
    bad = run_cli("verify", *where)
    assert bad.returncode == 1
    assert "first bad sequence number: 8" in bad.stderr and "audit reset" in bad.stderr
    as_json = json.loads(run_cli("verify", *where, "--json").stdout)
    assert as_json["first_bad_seq"] == 8 and as_json["checkpoints"] == 3
    reset = run_cli("reset", *where, "--reason", "record 9 deleted")
    assert reset.returncode == 0, reset.stderr
    ok = run_cli("verify", *where)
    assert ok.returncode == 0 and "epoch 1" in ok.stdout, ok.stdout + ok.stderr


def test_cli_checks_another_log_by_its_chain_not_against_the_sites_witness(
    site, tmp_path, monkeypatch
):
    _, witness = site  # the site's witness, with checkpoints of the site's log
    monkeypatch.setenv("GENESIS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENESIS_AUDIT_WITNESS_DIR", str(witness))
    other = AuditLog(tmp_path / "hub" / "account-audit.jsonl")
    for i in range(3):
        other.append(event_type="account.password", where="/hub/change-password", source="::1",
                     outcome="success", identity=f"user{i}")  # fmt: skip
    ok = run_cli("verify", "--log", str(other.path))
    assert ok.returncode == 0 and "OK: 3 records, chain intact, head" in ok.stdout, ok.stderr
    recs = lines(other)
    recs[1]["identity"] = "mallory"
    rewrite(other, recs, recompute=False)
    bad = run_cli("verify", "--log", str(other.path))
    assert bad.returncode == 1 and "first bad sequence number: 1" in bad.stderr, bad.stderr
    refused = run_cli("reset", "--log", str(other.path), "--reason", "x")
    assert refused.returncode == 2 and "--witness is required" in refused.stderr
