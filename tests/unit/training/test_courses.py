"""Courses without root: definitions, delivery that keeps edits, progress, caps, the spawn hook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml

from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.errors import AllocationError, CourseError
from genesis_lab.settings import reset_settings
from genesis_lab.training import courses, hooks
from genesis_lab.training.checks import Workbook
from genesis_lab.training.results import merge_result

GL = str(Path(sys.executable).parent / "genesis-lab")


def _notebook(path: Path, exercises=("one", "two")) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["genesis"] = {"exercises": list(exercises)}
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {"allocations": [{"id": "training-2026", "scheduler": "local", "members": ["*"]}]}
        )
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return site


def test_create_validates_name_and_allocation(site):
    with pytest.raises(CourseError, match=r"'name'.*lowercase"):
        courses.create_course("Bad Name")
    with pytest.raises(CourseError, match=r"allocation='nope'.*allowed values: training-2026"):
        courses.create_course("c1", allocation="nope")
    with pytest.raises(CourseError, match="needs an allocation"):
        courses.create_course("c1", cap_core_hours_per_learner=2)
    c = courses.create_course("c1", allocation="training-2026", cap_core_hours_per_learner=2)
    assert courses.storage_dir(c).stat().st_mode & 0o7777 == 0o2750
    with pytest.raises(CourseError, match="exists already"):
        courses.create_course("c1")
    with pytest.raises(CourseError, match=r"No course named 'c2' \(courses: c1\)"):
        courses.get_course("c2")


def test_create_without_a_reachable_hub_fails_clearly_and_leaves_nothing(
    fake_hub, monkeypatch, free_port
):
    monkeypatch.delenv("JUPYTERHUB_API_URL")
    reset_settings()
    out = subprocess.run([GL, "course", "create", "c1"], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "no hub is named: set JUPYTERHUB_API_URL" in out.stderr
    monkeypatch.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{free_port}/hub/api")
    reset_settings()
    with pytest.raises(CourseError, match=r"Cannot reach the hub at .*Start the hub"):
        courses.create_course("c1")
    assert courses.list_courses() == [] and not courses.storage_root().exists()
    assert fake_hub == []


def test_create_makes_the_hub_group(fake_hub):
    courses.create_course("c1")
    assert ("POST", "/groups/course-c1", None) in fake_hub


def test_delivery_never_overwrites_edits_and_brings_new_assignments(tmp_path):
    courses.create_course("c1")
    courses.enroll("c1", ["alice", "bob"])
    courses.assign("c1", [_notebook(tmp_path / "a.ipynb")])
    home = tmp_path / "alice"
    first = courses.deliver_assignments("alice", home)
    assert first == [home / "courses" / "c1" / "a.ipynb"]
    assert (home / "courses").stat().st_mode & 0o777 == 0o700
    first[0].write_text("my edits")
    courses.assign("c1", [_notebook(tmp_path / "b.ipynb")])
    second = courses.deliver_assignments("alice", home)
    assert second == [home / "courses" / "c1" / "b.ipynb"]
    assert first[0].read_text() == "my edits"
    assert courses.deliver_assignments("carol", tmp_path / "carol") == []
    with pytest.raises(CourseError, match="not a notebook"):
        courses.assign("c1", [tmp_path / "missing.ipynb"])


def test_progress_collects_the_results_the_service_keeps(tmp_path):
    courses.create_course("c1")
    courses.enroll("c1", ["alice", "bob"])
    courses.assign("c1", [_notebook(tmp_path / "intro.ipynb")])
    kept = courses.learner_dir(courses.get_course("c1"), "alice") / "intro.json"
    merge_result(kept, "intro", "one", True, "passed", "alice")  # as the service records it
    merge_result(kept, "intro", "two", False, "expected 4", "alice")
    rows = {(r["learner"], r["exercise"]): r["status"] for r in courses.progress("c1")}
    assert rows == {
        ("alice", "one"): "pass",
        ("alice", "two"): "fail",
        ("bob", "one"): "not attempted",
        ("bob", "two"): "not attempted",
    }
    out = subprocess.run(
        [GL, "course", "progress", "c1", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert {(r["learner"], r["exercise"]): r["status"] for r in json.loads(out.stdout)} == rows


def test_a_result_that_cannot_be_recorded_is_said_so_not_congratulated(tmp_path, monkeypatch):
    courses.create_course("c1")
    courses.enroll("c1", ["alice"])
    courses.assign("c1", [_notebook(tmp_path / "intro.ipynb")])
    courses.deliver_assignments("alice", tmp_path / "alice")
    monkeypatch.chdir(tmp_path / "alice" / "courses" / "c1")  # where its kernel runs
    book = Workbook("intro", ["one"])  # no genesis service in this process
    with book.exercise("one"):
        pass
    assert book.passed == {"one": True}
    summary = book.summary()
    assert "not recorded" in summary and "GENESIS_SERVICE_URL" in summary
    assert "well done" not in summary
    assert courses.progress("c1")[0]["status"] == "not attempted"


def test_cap_per_learner_from_the_ledger(site, tmp_path):
    course = courses.create_course("c1", allocation="training-2026", cap_core_hours_per_learner=1.5)
    courses.enroll("c1", ["alice"])
    courses.check_course_cap(course, "alice")
    get_ledger().record(
        UsageRecord.from_times(allocation="training-2026", user="alice", kind="session",
                               ref="s1", cores=2, start=0, end=2700, source="job-lifetime")
    )  # fmt: skip
    with pytest.raises(AllocationError, match=r"used 1.50 of the 1.5 core-hours"):
        courses.check_course_cap("c1", "alice")
    courses.check_course_cap("c1", "bob")  # caps are per learner

    # the spawn hook refuses the capped learner on the course's allocation only
    def spawner(alloc):
        return SimpleNamespace(user=SimpleNamespace(name="alice"),
                               user_options={"allocation": alloc}, home_dir=str(tmp_path / "h"))  # fmt: skip

    with pytest.raises(AllocationError):
        hooks.pre_spawn_hook(spawner("training-2026"))
    assert hooks.pre_spawn_hook(spawner("other")) == []


def test_cli_create_enroll_assign(tmp_path):
    nb = _notebook(tmp_path / "n.ipynb")

    def cli(*args):
        return subprocess.run([GL, "course", *args],
                              capture_output=True, text=True, check=False)  # fmt: skip

    assert cli("create", "c9", "--title", "Nine").returncode == 0
    assert cli("enroll", "c9", "alice").returncode == 0
    assert cli("assign", "c9", str(nb)).returncode == 0
    listing = json.loads(cli("list", "--json").stdout)
    assert listing[0]["learners"] == ["alice"] and listing[0]["notebooks"] == ["n.ipynb"]
    bad = cli("enroll", "c9", "Not A User")
    assert bad.returncode == 1 and "not a valid user name" in bad.stderr


def test_enroll_warns_about_learners_outside_the_allocation(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [
        {"id": "train", "scheduler": "local", "members": ["alice"]}]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    courses.create_course("c1", allocation="train")
    out = subprocess.run([GL, "course", "enroll", "c1", "alice", "bob"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert out.returncode == 0
    assert "warning: not members of allocation 'train': bob;" in out.stderr
    assert courses.not_in_allocation(courses.get_course("c1")) == ["bob"]


def test_cap_in_a_learners_session_reads_the_site_ledger_through_the_service(tmp_path, monkeypatch):
    """A learner's session has its own home, the service's URL and its own token: the cap is
    checked against the site ledger the service keeps, which that session cannot open."""
    import time

    from fixtures.genesis_service import genesis_service

    from genesis_lab.compute.ledger import charge

    allocs = [{"id": "training-2026", "scheduler": "local", "members": ["*"]}]
    tokens = {"alices-token": "alice", "bobs-token": "bob"}
    course = courses.Course(name="c1", allocation="training-2026", learners=["alice", "bob"],
                            cap_core_hours_per_learner=1.5)  # fmt: skip
    with genesis_service(tmp_path / "service", allocs, tokens) as svc:

        def session_of(user: str) -> None:
            monkeypatch.setenv("GENESIS_SERVICE_URL", svc.url)
            monkeypatch.setenv("JUPYTERHUB_API_TOKEN", f"{user}s-token")
            monkeypatch.setenv("JUPYTERHUB_USER", user)
            reset_settings()

        session_of("alice")
        courses.check_course_cap(course, "alice")
        now = time.time()
        cores, seconds = 2, 2700  # 1.5 core-hours: the cap
        charge(UsageRecord.from_times(allocation="training-2026", user="alice", kind="session",
                                      ref="s1", cores=cores, start=now - seconds, end=now,
                                      source="session-lifetime"))  # fmt: skip
        assert not get_ledger().path.exists()  # the session's own home holds no ledger
        assert [r["user"] for r in svc.ledger_lines()] == ["alice"]
        with pytest.raises(AllocationError) as err:
            courses.check_course_cap(course, "alice")
        assert f"used {cores * seconds / 3600:.2f} of the 1.5 core-hours" in str(err.value)
        session_of("bob")
        courses.check_course_cap(course, "bob")  # caps are per learner
