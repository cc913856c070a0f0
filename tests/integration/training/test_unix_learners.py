"""Courses with real Unix users: private learner folders, delivery, and progress read by root."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from realparts import is_root, require

from genesis_lab.settings import reset_settings


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["genesis"] = {"exercises": ["sum", "product"]}
    nb.cells = [nbformat.v4.new_code_cell("print('hello')")]
    nbformat.write(nb, path)
    return path


def _runuser(user: str, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": f"/home/{user}", "LANG": "C.UTF-8"}
    return subprocess.run(
        ["runuser", "-u", user, "--", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture
def learners():
    require(is_root(), "root", "run this test as root (it creates Unix users with useradd)")
    names = [f"gl{secrets.token_hex(3)}a", f"gl{secrets.token_hex(3)}b"]
    for n in names:
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", n], check=True)
    yield names
    for n in names:
        subprocess.run(["userdel", "-r", n], capture_output=True, check=False)


@pytest.fixture
def course_storage(monkeypatch):
    # pytest's own tmp folders are 0700 (root only): learners must traverse the storage root
    root = Path(tempfile.mkdtemp(prefix="gl-course-storage-"))
    os.chmod(root, 0o755)
    monkeypatch.setenv("GENESIS_COURSE_STORAGE_ROOT", str(root))
    reset_settings()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_learners_cannot_read_each_other_and_progress_reads_both(
    learners, course_storage, tmp_path
):
    from genesis_lab.training import courses

    name = f"t{secrets.token_hex(3)}"
    course = courses.create_course(name, title="Unix test", unix_group=True)
    try:
        courses.enroll(name, learners)
        courses.assign(name, [_notebook(tmp_path / "intro.ipynb")])
        homes = {u: Path(f"/home/{u}") for u in learners}
        for u in learners:
            delivered = courses.deliver_assignments(u, homes[u])
            assert delivered == [homes[u] / "courses" / name / "intro.ipynb"]
            assert delivered[0].stat().st_uid == _uid(u)

        # no world-writable folder anywhere in the course storage
        top = courses.storage_dir(course)
        for folder in [top, *top.rglob("*")]:
            assert not folder.stat().st_mode & 0o002, folder
        assert top.stat().st_mode & 0o7777 == 0o2770

        a, b = learners
        # each learner records check results from inside their delivered course folder
        code = (
            "from genesis_lab.training.checks import Workbook, expect_close\n"
            "book = Workbook('intro')\n"
            "with book.exercise('sum'):\n    expect_close(2 + 2, 4, name='total')\n"
            "try:\n    with book.exercise('product'):\n"
            "        expect_close(2 * 3, 5, name='product')\n"
            "except AssertionError:\n    pass\n"
        )
        for u in learners:
            out = _runuser(u, sys.executable, "-c", code, cwd=homes[u] / "courses" / name)
            assert out.returncode == 0, out.stderr

        b_notebook = homes[b] / "courses" / name / "intro.ipynb"
        b_results = courses.learner_dir(course, b) / "intro.json"
        assert b_results.is_file()
        for target in (b_notebook, b_results):
            out = _runuser(a, "cat", str(target))
            assert out.returncode != 0
            assert "Permission denied" in out.stderr
        out = _runuser(a, "ls", str(courses.learner_dir(course, b)))
        assert "Permission denied" in out.stderr
        # but a learner can read their own
        assert _runuser(b, "cat", str(b_results)).returncode == 0

        rows = courses.progress(name)
        got = {(r["learner"], r["exercise"]): r for r in rows}
        for u in learners:
            assert got[(u, "sum")]["status"] == "pass"
            assert got[(u, "product")]["status"] == "fail"
            assert "`product` is 6, expected 5" in got[(u, "product")]["message"]

        # the CLI shows the same (as root)
        cli = subprocess.run(
            [
                str(Path(sys.executable).parent / "genesis-lab"),
                "course",
                "progress",
                name,
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert {(r["learner"], r["exercise"], r["status"]) for r in json.loads(cli.stdout)} == {
            (r["learner"], r["exercise"], r["status"]) for r in rows
        }
    finally:
        subprocess.run(["groupdel", course.group], capture_output=True, check=False)


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid
