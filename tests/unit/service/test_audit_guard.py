"""The service's audit guard against a real witness process: checkpoints every N records, every
few seconds and at shutdown; a log changed behind the writer, or a checkpoint the witness
refuses, trips it (records go to a log of their own); a reset at the witness brings it back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genesis_lab.access.audit import reset_log, verify
from genesis_lab.access.checkpoints import WitnessBook
from genesis_lab.errors import AuditError
from genesis_lab.service.state import ServiceState
from genesis_lab.service.witness import ask_witness, peer_uid
from genesis_lab.settings import load_settings


def record(i: int) -> dict:
    return dict(event_type="data.read", where=f"/d/{i}", source="::1", outcome="success",
                identity="ada", dataset="a/b")  # fmt: skip


@pytest.fixture
def witness(tmp_path):
    """The witness as the hub starts it, for a site whose home is ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESIS_")}
    env["GENESIS_HOME"] = str(tmp_path)
    (tmp_path / "state" / "audit").mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-m", "genesis_lab.service.witness"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    sock = tmp_path / "state" / "audit-witness" / "witness.sock"
    deadline = time.monotonic() + 30
    while not sock.exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the witness did not start"
        time.sleep(0.05)
    yield tmp_path / "state" / "audit-witness"
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def state_for(home: Path, **service) -> ServiceState:
    settings = load_settings(home=home, service=service)
    return ServiceState(settings, hub_auth=None)


async def until(what: str, cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def test_checkpoints_every_n_records_and_at_shutdown(tmp_path, witness):
    state = state_for(tmp_path, audit_checkpoint_records=5, audit_checkpoint_interval=3600)
    guard = state.guard
    book = WitnessBook(witness)

    async def main() -> None:
        assert guard.check_at_start().ok
        task = asyncio.ensure_future(guard.run())
        await until("anchored", lambda: guard.epoch == 0)
        await asyncio.gather(*(state.append_audit(record(i)) for i in range(5)))
        # the interval is an hour: only the record count can have sent this one
        await until("a checkpoint after 5 records", lambda: book.latest()["seq"] == 5)
        for i in range(2):
            state.record_audit(record(10 + i))
        assert book.latest()["seq"] == 5
        task.cancel()
        await guard.close()

    asyncio.run(main())
    latest = book.latest()
    lines = state.audit.path.read_bytes().splitlines()
    assert latest["seq"] == len(lines) == 7  # the shutdown checkpoint covers every record
    assert json.loads(lines[-1])["hash"] == latest["head"]
    assert verify(state.audit.path, witness=witness).checkpoints == 2


def test_checkpoints_every_few_seconds_while_records_arrive(tmp_path, witness):
    state = state_for(tmp_path, audit_checkpoint_records=1000, audit_checkpoint_interval=0.3)
    book = WitnessBook(witness)

    async def main() -> None:
        state.guard.check_at_start()
        task = asyncio.ensure_future(state.guard.run())
        for i in range(3):
            state.record_audit(record(i))
            await until(f"checkpoint of {i + 1}", lambda i=i: state.guard.checkpointed == i + 1, 5)
            assert book.latest()["seq"] == i + 1
        sent = state.guard.checkpoints_sent
        await asyncio.sleep(1.0)  # nothing new: nothing sent
        assert state.guard.checkpoints_sent == sent
        task.cancel()

    asyncio.run(main())


def test_a_log_removed_behind_the_writer_trips_it_and_a_reset_clears_it(tmp_path, witness):
    state = state_for(tmp_path, audit_checkpoint_records=2, audit_checkpoint_interval=3600)
    guard = state.guard
    log = state.audit.path

    async def main() -> None:
        guard.check_at_start()
        task = asyncio.ensure_future(guard.run())
        await until("anchored", lambda: guard.epoch == 0)
        for i in range(4):
            state.record_audit(record(i))
        await until("checkpointed", lambda: WitnessBook(witness).latest()["seq"] == 4)
        log.unlink()
        log.with_name(log.name + ".head").unlink()
        with pytest.raises(AuditError, match="changed outside the service"):
            state.record_audit(record(99))
        assert guard.fault and state.audit_fault == guard.fault
        assert state.audit.path != log and not log.exists()  # the evidence is left as found
        assert json.loads(state.audit.path.read_text())["where"] == "/d/99"
        await guard.tick()
        assert guard.fault  # no reset yet: still refusing
        reset_log(log, witness, reason="test", who="admin")
        await guard.tick()
        assert guard.fault is None and state.audit.path == log
        state.record_audit(record(100))
        await guard.tick()
        latest = WitnessBook(witness).latest()
        assert (latest["epoch"], latest["seq"], guard.epoch) == (1, 1, 1)
        task.cancel()

    asyncio.run(main())
    report = verify(log, witness=witness)
    assert report.ok and report.epoch == 1 and report.records == 1


def test_a_log_that_does_not_match_the_witness_at_start_trips(tmp_path, witness):
    first = state_for(tmp_path, audit_checkpoint_records=3, audit_checkpoint_interval=3600)

    async def write_and_stop() -> None:
        first.guard.check_at_start()
        task = asyncio.ensure_future(first.guard.run())
        for i in range(3):
            first.record_audit(record(i))
        await until("checkpointed", lambda: WitnessBook(witness).latest()["seq"] == 3)
        task.cancel()

    asyncio.run(write_and_stop())
    log = first.audit.path
    log.unlink()  # both files gone: the chain alone finds nothing wrong
    log.with_name(log.name + ".head").unlink()
    again = state_for(tmp_path)
    assert again.guard.check_at_start().ok
    asyncio.run(again.guard.tick())
    assert "checkpoint of 3 records" in again.guard.fault


def test_a_checkpoint_the_witness_refuses_trips_the_guard(tmp_path, witness):
    state = state_for(tmp_path, audit_checkpoint_records=1000, audit_checkpoint_interval=3600)
    guard = state.guard

    async def main() -> None:
        guard.check_at_start()
        state.record_audit(record(0))
        await guard.tick()
        assert WitnessBook(witness).latest()["seq"] == 1
        (state.audit.path.parent / "checkpoint-key.pem").unlink()  # a new key, not the pinned
        guard._key = None
        state.record_audit(record(1))
        await guard.tick()

    asyncio.run(main())
    assert "refused" in guard.fault and "accepts only" in guard.fault


def test_the_witness_hears_only_the_owner_of_the_audit_folder(tmp_path, witness):
    audit_dir = tmp_path / "state" / "audit"
    sock = witness / "witness.sock"
    assert asyncio.run(ask_witness(sock, {"op": "latest"}))["ok"]
    other = 4242 if os.getuid() == 0 else None
    if other is not None:
        os.chown(audit_dir, other, other)
    else:  # not root: point the check at a folder someone else owns
        audit_dir.rmdir()
        audit_dir.symlink_to("/")
    refused = asyncio.run(ask_witness(sock, {"op": "latest"}))
    assert refused["code"] == "forbidden" and str(os.getuid()) in refused["message"]


def test_peer_uid_is_the_kernels_answer():
    import socket

    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert peer_uid(a) == os.getuid()


def test_a_witness_whose_folder_others_may_write_keeps_no_book_and_says_why(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESIS_")}
    env.update(GENESIS_HOME=str(tmp_path), GENESIS_AUDIT_WITNESS_DIR=str(shared / "witness"))
    proc = subprocess.Popen([sys.executable, "-m", "genesis_lab.service.witness"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        sock = shared / "witness" / "witness.sock"
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        reply = asyncio.run(ask_witness(sock, {"op": "latest"}))
        assert (
            reply["code"] == "unsafe"
            and "shared is writable by group or others" in (reply["message"])
        )
        assert proc.poll() is None  # up, so the hub does not restart it in a loop
        assert not (shared / "witness" / "checkpoints.jsonl").exists()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
