"""Course results of learners whose sessions run as Unix accounts of their own (the suite's root
hub: local sessions as ``jupyter-<name>``): recorded through the genesis service, read by
``course progress``, private to each learner, and "not recorded" when the service is out of reach.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import requests

from genesis_lab.settings import reset_settings
from genesis_lab.training import courses
from genesis_lab.training.results import course_results_root

pytestmark = [pytest.mark.hub, pytest.mark.slow]

CHECKS = """
import os
from pathlib import Path
os.chdir(Path.home() / "courses" / {course!r})
from genesis_lab.training.checks import Workbook, expect_close
book = Workbook("intro", ["sum", "product"])
with book.exercise("sum"):
    expect_close(2 + 2, 4, name="total")
try:
    with book.exercise("product"):
        expect_close(2 * 3, 5, name="product")
except AssertionError:
    pass
print("SUMMARY", book.summary())
"""


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["genesis"] = {"exercises": ["sum", "product"]}
    nb.cells = [nbformat.v4.new_code_cell("print('hello')")]
    nbformat.write(nb, path)
    return path


def test_results_recorded_through_the_service_private_to_each_learner(hub, monkeypatch, tmp_path):
    admin = hub.ensure_admin_token()
    monkeypatch.setenv("GENESIS_HOME", hub.env["GENESIS_HOME"])  # the hub's state
    monkeypatch.setenv("GENESIS_SITE_FILE", hub.env["GENESIS_SITE_FILE"])
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", admin)
    reset_settings()
    ann, bob = hub.new_user(), hub.new_user()
    name = f"u{secrets.token_hex(3)}"
    courses.create_course(name, educators=["admin"])
    courses.enroll(name, [ann, bob])
    courses.assign(name, [_notebook(tmp_path / "intro.ipynb")])

    assert hub.spawn(ann, {"allocation": "open-local"}).status_code in (201, 202)
    hub.wait_ready(ann)
    out = hub.run_code(ann, CHECKS.format(course=name))
    assert "SUMMARY 1/2 exercises pass; still to do: product" in out, out

    rows = {(r["learner"], r["exercise"]): r for r in courses.progress(name)}
    assert rows[(ann, "sum")]["status"] == "pass"
    assert rows[(ann, "product")]["status"] == "fail"
    assert "`product` is 6, expected 5" in rows[(ann, "product")]["message"]
    assert {rows[(bob, e)]["status"] for e in ("sum", "product")} == {"not attempted"}
    cli = subprocess.run([str(Path(sys.executable).parent / "genesis-lab"), "course", "progress",
                          name, "--json"], capture_output=True, text=True, check=True)  # fmt: skip
    assert {(r["learner"], r["exercise"], r["status"]) for r in json.loads(cli.stdout)} == {
        (k[0], k[1], r["status"]) for k, r in rows.items()
    }

    # another learner reads nothing of ann's: not through the service, not on disk
    api = f"{hub.url}/services/genesis/api/courses/{name}/results"

    def get(token, **params):
        return requests.get(api, params=params, timeout=30,
                            headers={"Authorization": f"token {token}"})  # fmt: skip

    assert get(hub.user_token(bob), user=ann).status_code == 403
    assert set(get(hub.user_token(bob)).json()["results"]) == {bob}
    assert set(get(hub.user_token(ann)).json()["results"]) == {ann}
    assert set(get(admin).json()["results"]) == {ann, bob}  # the course's educator
    # an educator names only this course's learners: no way into another course's folder
    assert get(admin, user=f"../other-course/{ann}").status_code == 404
    assert get(admin, user="nobody-here").status_code == 404
    forged = requests.post(api, timeout=30, headers={"Authorization": f"token {admin}"},
                           json={"notebook": "intro", "exercise": "sum", "passed": True})  # fmt: skip
    assert forged.status_code == 403  # nobody records for a course they do not take
    stored = course_results_root() / name / ann / "intro.json"
    probe = f"open({str(stored)!r}).read()\n"
    assert "PermissionError" in _error_of(hub, ann, probe)

    # with the service out of reach, the summary says so instead of congratulating
    broken = (
        "import os\nfrom genesis_lab.settings import reset_settings\n"
        "os.environ['GENESIS_SERVICE_URL'] = 'http://127.0.0.1:9/services/genesis/'\n"
        "reset_settings()\n" + CHECKS.format(course=name)
    )
    out = hub.run_code(ann, broken)
    assert "SUMMARY 1/2 exercises pass, but not recorded:" in out and "cannot be reached" in out
    hub.stop_server(ann)


def _error_of(hub, user, code):
    try:
        return hub.run_code(user, code)
    except AssertionError as exc:  # run_code raises the kernel's traceback
        return str(exc)


@pytest.mark.slurm
def test_a_learner_in_a_slurm_session_records_results_only_she_and_educators_read(
    slurm_hub, monkeypatch, tmp_path
):
    from fixtures.slurm import unix_user

    hub = slurm_hub
    admin = hub.ensure_admin_token()
    monkeypatch.setenv("GENESIS_HOME", hub.env["GENESIS_HOME"])
    monkeypatch.setenv("GENESIS_SITE_FILE", hub.env["GENESIS_SITE_FILE"])
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", admin)
    reset_settings()
    ann, bob = hub.new_user(unix_user("glcrs-ann")), hub.new_user(unix_user("glcrs-bob"))
    name = f"s{secrets.token_hex(3)}"
    courses.create_course(name, educators=["admin"])
    courses.enroll(name, [ann, bob])
    courses.assign(name, [_notebook(tmp_path / "intro.ipynb")])

    r = hub.spawn(ann, {"allocation": "physics-slurm", "cores": "1", "memory": "1GB"})
    assert r.status_code in (201, 202), r.text
    hub.wait_ready(ann)
    out = hub.run_code(ann, CHECKS.format(course=name))
    assert "SUMMARY 1/2 exercises pass; still to do: product" in out, out
    hub.stop_server(ann)

    rows = {(r["learner"], r["exercise"]): r["status"] for r in courses.progress(name)}
    assert rows == {(ann, "sum"): "pass", (ann, "product"): "fail",
                    (bob, "sum"): "not attempted", (bob, "product"): "not attempted"}  # fmt: skip
    api = f"{hub.url}/services/genesis/api/courses/{name}/results"
    theirs = requests.get(api, params={"user": ann}, timeout=30,
                          headers={"Authorization": f"token {hub.user_token(bob)}"})  # fmt: skip
    assert theirs.status_code == 403
