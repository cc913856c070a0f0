"""The audit log: AU-3 fields, a hash chain that catches edits, moves, deletions and cuts."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genesis_lab.access.audit import AuditLog, query, verify
from genesis_lab.errors import AuditError


def write(log: AuditLog, n: int, user: str = "ada", dataset: str | None = "a/b") -> None:
    for i in range(n):
        log.append(
            event_type="data.read",
            where=f"/api/data/{dataset}/{i}",
            source="127.0.0.1",
            outcome="success" if i % 2 else "denied",
            identity=user,
            dataset=dataset,
            reason=f"r{i}",
        )


@pytest.fixture
def log(tmp_path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "audit.jsonl")


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def test_records_carry_au3_fields_and_chain(log):
    write(log, 3)
    records = list(log.records())
    assert [r["seq"] for r in records] == [0, 1, 2]
    for r in records:
        for f in ("event_type", "time", "where", "source", "outcome", "identity", "dataset",
                  "reason", "prev_hash", "hash"):  # fmt: skip
            assert f in r
    assert records[1]["prev_hash"] == records[0]["hash"]
    rep = verify(log.path)
    assert rep.ok and rep.records == 3 and rep.head_hash == records[-1]["hash"]


def test_empty_log_verifies(log):
    assert verify(log.path).ok


def test_edited_record_detected(log):
    write(log, 5)
    ls = lines(log)
    ls[2] = ls[2].replace(b'"denied"', b'"success"')
    log.path.write_bytes(b"".join(ls))
    rep = verify(log.path)
    assert not rep.ok
    assert any(p["line"] == 3 and "edited" in p["problem"] for p in rep.problems)


def test_deleted_middle_record_detected(log):
    write(log, 5)
    ls = lines(log)
    del ls[1]
    log.path.write_bytes(b"".join(ls))
    assert not verify(log.path).ok


def test_deleted_last_record_detected_and_appends_refuse(log):
    write(log, 5)
    ls = lines(log)
    log.path.write_bytes(b"".join(ls[:-1]))
    rep = verify(log.path)
    assert not rep.ok
    assert any("cut off" in p["problem"] for p in rep.problems)
    with pytest.raises(AuditError, match="shorter"):
        write(log, 1)


def test_removed_log_detected(log):
    write(log, 2)
    log.path.unlink()
    assert not verify(log.path).ok


def test_reordered_records_detected(log):
    write(log, 4)
    ls = lines(log)
    ls[1], ls[2] = ls[2], ls[1]
    log.path.write_bytes(b"".join(ls))
    assert not verify(log.path).ok


def test_garbage_line_detected(log):
    write(log, 2)
    with open(log.path, "ab") as fh:
        fh.write(b"not json\n")
    rep = verify(log.path)
    assert not rep.ok


def test_a_record_being_appended_is_not_read_half_written_and_a_bad_whole_line_still_raises(log):
    write(log, 2)
    whole = log.path.read_bytes()
    with open(log.path, "ab") as fh:
        fh.write(whole.splitlines(keepends=True)[0][:40])
    assert [r["seq"] for r in log.records()] == [0, 1]
    log.path.write_bytes(whole + b"not json\n")
    with pytest.raises(AuditError, match=":3: not a JSON record"):
        list(log.records())


def test_recovers_after_a_writer_died_before_updating_the_head(log):
    write(log, 3)
    head = log.path.with_name(log.path.name + ".head")
    old_head = head.read_text()
    write(log, 1)
    head.write_text(old_head)  # as if the process died between the two writes
    assert verify(log.path).ok
    write(log, 2)
    rep = verify(log.path)
    assert rep.ok and rep.records == 6


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(min_value=2, max_value=12),
    data=st.data(),
)
def test_any_single_byte_change_is_detected(tmp_path, n, data):
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "audit.jsonl"
    log = AuditLog(path)
    write(log, n)
    raw = bytearray(path.read_bytes())
    i = data.draw(st.integers(min_value=0, max_value=10**6)) % len(raw)
    raw[i] ^= data.draw(st.integers(min_value=1, max_value=255))
    path.write_bytes(bytes(raw))
    assert not verify(path).ok


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(min_value=1, max_value=10), data=st.data())
def test_any_deletion_of_lines_is_detected(tmp_path, n, data):
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "audit.jsonl"
    log = AuditLog(path)
    write(log, n)
    ls = path.read_bytes().splitlines(keepends=True)
    start = data.draw(st.integers(min_value=0, max_value=n - 1))
    stop = data.draw(st.integers(min_value=start + 1, max_value=n))
    path.write_bytes(b"".join(ls[:start] + ls[stop:]))
    assert not verify(path).ok


def test_query_filters(log):
    write(log, 4, user="ada", dataset="x/one")
    write(log, 3, user="bob", dataset="x/two")
    write(log, 2, user="ada", dataset="x/two")
    assert len(query(log.path, user="ada")) == 6
    assert len(query(log.path, user="ada", dataset="x/two")) == 2
    assert len(query(log.path, dataset="x/two", outcome="denied")) == 3
    assert query(log.path, user="nobody") == []


def test_bad_outcome_is_refused(log):
    with pytest.raises(ValueError, match="Allowed values"):
        log.append(event_type="x", where="w", source="s", outcome="ok", identity="i")


def _append_many(path: str, who: str, n: int) -> None:
    write(AuditLog(Path(path)), n, user=who)


def test_concurrent_processes_keep_one_chain(log):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(log.path), f"p{i}", 25)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rep = verify(log.path)
    assert rep.ok and rep.records == 100


def test_verify_while_another_process_appends_sees_a_sound_prefix(log):
    write(log, 1)
    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=_append_many, args=(str(log.path), "busy", 400))
    writer.start()
    reports = []
    while writer.is_alive() or not reports:
        reports.append(verify(log.path))
    writer.join(60)
    assert writer.exitcode == 0
    bad = [r.problems for r in reports if not r.ok]
    assert not bad, bad[:1]
    assert [r.records for r in reports] == sorted(r.records for r in reports)
    assert verify(log.path).records == 401


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from genesis_lab.cli import main; sys.exit(main())",
            "audit",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_verify_and_show(log):
    write(log, 3, user="ada", dataset="x/one")
    write(log, 2, user="bob", dataset="x/two")
    ok = run_cli("verify", "--log", str(log.path), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["records"] == 5
    shown = run_cli("show", "--log", str(log.path), "--user", "bob", "--dataset", "x/two", "--json")
    assert shown.returncode == 0
    assert [r["identity"] for r in json.loads(shown.stdout)] == ["bob", "bob"]
    table = run_cli("show", "--log", str(log.path), "--user", "ada")
    assert table.stdout.count("ada") == 3
    ls = lines(log)
    log.path.write_bytes(b"".join(ls[:2] + ls[3:]))
    bad = run_cli("verify", "--log", str(log.path))
    assert bad.returncode == 1
    assert "TAMPERED" in bad.stderr
    bad_outcome = run_cli("show", "--log", str(log.path), "--outcome", "maybe")
    assert bad_outcome.returncode == 1 and "Allowed values" in bad_outcome.stderr


def test_cli_uses_state_dir_by_default(genesis_home):
    from genesis_lab.access.audit import audit_log

    write(audit_log(), 2)
    assert (genesis_home / "state" / "audit" / "audit.jsonl").exists()
    out = run_cli("verify", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["records"] == 2


def test_group_commit_chains_like_single_appends(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    write(log, 3)
    item = dict(event_type="data.read", where="/d", source="::1", outcome="success",
                identity="ada", dataset="a/b", file="x/0.0")  # fmt: skip
    out = log.append_many([item] * 5)
    write(log, 2)
    assert [r["seq"] for r in out] == [3, 4, 5, 6, 7]
    assert [r["seq"] for r in log.records()] == list(range(10))
    assert out[1]["prev_hash"] == out[0]["hash"] and out[0]["file"] == "x/0.0"
    assert verify(log.path).ok
    with pytest.raises(ValueError, match="outcome='maybe'"):
        log.append_many([item, {**item, "outcome": "maybe"}])
    assert len(list(log.records())) == 10  # a bad record in a batch writes none of it


def test_the_services_concurrent_appends_all_reach_the_log_in_one_chain(tmp_path):
    import asyncio

    from genesis_lab.service.state import ServiceState
    from genesis_lab.settings import load_settings

    state = ServiceState(load_settings(home=tmp_path), hub_auth=None,
                         audit=AuditLog(tmp_path / "audit.jsonl"))  # fmt: skip

    async def main() -> None:
        await asyncio.gather(*(state.append_audit(dict(
            event_type="data.read", where=f"/d/{i}", source="::1", outcome="success",
            identity="ada", dataset="a/b")) for i in range(60)))  # fmt: skip

    asyncio.run(main())
    records = list(state.audit.records())
    assert sorted(r["where"] for r in records) == sorted(f"/d/{i}" for i in range(60))
    assert verify(state.audit.path).ok
