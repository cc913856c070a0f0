"""Assigned notebooks appear in a learner's home when a real hub starts their session.

The hub is the suite's shared one, started by ``genesis-lab hub`` on the shipped
``hub_config/jupyterhub_config.py``, so this tests that config's ``pre_spawn_hook`` wiring.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import nbformat
import pytest

from genesis_lab.settings import reset_settings
from genesis_lab.training import courses


def _notebook(path: Path, text: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    nbformat.write(nb, path)
    return path


@pytest.mark.hub
@pytest.mark.slow
def test_assignments_delivered_at_session_start_keeping_edits(hub, monkeypatch, tmp_path):
    monkeypatch.setenv("GENESIS_HOME", hub.env["GENESIS_HOME"])  # the hub's state
    monkeypatch.setenv("GENESIS_SITE_FILE", hub.env["GENESIS_SITE_FILE"])
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)  # a course's group is the hub's
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.ensure_admin_token())
    reset_settings()
    learner = hub.new_user()
    name = f"d{secrets.token_hex(3)}"
    courses.create_course(name)
    courses.enroll(name, [learner])
    courses.assign(name, [_notebook(tmp_path / "week1.ipynb", "week one")])

    assert hub.spawn(learner, {"allocation": "open-local"}).status_code in (201, 202)
    hub.wait_ready(learner)
    code = (
        "from pathlib import Path\n"
        f"p = Path('courses/{name}/week1.ipynb')\n"
        "print(p.exists(), 'week one' in p.read_text())\n"
        "p.write_text(p.read_text().replace('week one', 'my answers'))\n"
    )
    assert hub.run_code(learner, code).split() == ["True", "True"]
    hub.stop_server(learner)

    courses.assign(name, [_notebook(tmp_path / "week2.ipynb", "week two")])
    assert hub.spawn(learner, {"allocation": "open-local"}).status_code in (201, 202)
    hub.wait_ready(learner)
    code = (
        "from pathlib import Path\n"
        f"d = Path('courses/{name}')\n"
        "print(sorted(p.name for p in d.glob('*.ipynb')), "
        "'my answers' in (d / 'week1.ipynb').read_text())\n"
    )
    assert hub.run_code(learner, code).strip() == "['week1.ipynb', 'week2.ipynb'] True"
    hub.stop_server(learner)
