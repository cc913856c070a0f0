"""Atomic writes: content, modes, and what is left behind when a write fails."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from genesis_lab.fileio import atomic_path, atomic_write_bytes, atomic_write_text


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


def test_text_and_bytes_replace_the_file_and_leave_nothing_else(tmp_path):
    p = tmp_path / "head.json"
    p.write_text("old")
    atomic_write_text(p, "naïve ✓")
    assert p.read_bytes() == "naïve ✓".encode()
    atomic_write_bytes(str(p), b"\x00\xff")
    assert p.read_bytes() == b"\x00\xff"
    assert _names(tmp_path) == ["head.json"]


def test_fsync_writes_the_same_content(tmp_path):
    atomic_write_text(tmp_path / "a", "x" * 10_000, fsync=True)
    with atomic_path(tmp_path / "b", fsync=True) as tmp:
        tmp.write_text("y")
    assert (tmp_path / "a").read_text() == "x" * 10_000
    assert (tmp_path / "b").read_text() == "y"
    assert _names(tmp_path) == ["a", "b"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    p = tmp_path / "state.json"
    p.write_text("old")
    with pytest.raises(TypeError):
        atomic_write_bytes(p, "not bytes")  # type: ignore[arg-type]
    assert p.read_text() == "old"
    assert _names(tmp_path) == ["state.json"]


def test_a_failed_rename_removes_the_temporary(tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        atomic_write_text(target, "x")
    assert (target / "inside").read_text() == "kept"
    assert _names(tmp_path) == ["busy"]


def test_atomic_path_failure_in_the_block_keeps_the_old_file(tmp_path):
    p = tmp_path / "sweep.nc"
    p.write_bytes(b"old")
    seen: list[Path] = []
    with pytest.raises(RuntimeError, match="writer died"), atomic_path(p) as tmp:
        seen.append(tmp)
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert p.read_bytes() == b"old"
    assert not seen[0].exists()
    assert _names(tmp_path) == ["sweep.nc"]


def test_atomic_path_yields_an_existing_hidden_file_in_the_same_folder(tmp_path):
    src = tmp_path / "src.ipynb"
    src.write_text("{}")
    with atomic_path(tmp_path / "nb.ipynb") as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".nb.ipynb.")
        assert tmp.is_file()
        assert not (tmp_path / "nb.ipynb").exists()  # nothing visible before the block ends
        shutil.copyfile(src, tmp)
    assert (tmp_path / "nb.ipynb").read_text() == "{}"


def test_missing_folder_is_an_error_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "no" / "such" / "file", "x")
    assert _names(tmp_path) == []


@pytest.mark.parametrize("mask", [0o077, 0o000])
def test_mode_is_exact_whatever_the_umask(tmp_path, umask, mask):
    umask(mask)
    atomic_write_text(tmp_path / "secret", "s", mode=0o600)
    atomic_write_text(tmp_path / "metrics.json", "{}", mode=0o644)
    with atomic_path(tmp_path / "assigned.ipynb", mode=0o640) as tmp:
        assert _mode(tmp) == 0o600  # owner-only while the writer works
        tmp.write_text("{}")
    assert _mode(tmp_path / "secret") == 0o600
    assert _mode(tmp_path / "metrics.json") == 0o644
    assert _mode(tmp_path / "assigned.ipynb") == 0o640


def test_without_mode_the_umask_applies_as_for_open(tmp_path, umask):
    umask(0o027)
    atomic_write_text(tmp_path / "a", "x")
    with atomic_path(tmp_path / "b") as tmp:
        tmp.write_text("y")
    (tmp_path / "c").write_text("z")
    assert _mode(tmp_path / "a") == _mode(tmp_path / "b") == _mode(tmp_path / "c") == 0o640


def test_mode_replaces_the_old_files_mode(tmp_path):
    p = tmp_path / "secret"
    p.write_text("old")
    p.chmod(0o666)
    atomic_write_text(p, "new", mode=0o600)
    assert _mode(p) == 0o600


def test_readers_see_the_old_or_the_new_content_never_a_part(tmp_path):
    p = tmp_path / "state"
    a, b = b"a" * 200_000, b"b" * 300_000
    atomic_write_bytes(p, a)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            atomic_write_bytes(p, b)
            atomic_write_bytes(p, a)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reads = {p.read_bytes() for _ in range(500)}
    finally:
        stop.set()
        thread.join()
    assert reads <= {a, b}
    assert _names(tmp_path) == ["state"]
