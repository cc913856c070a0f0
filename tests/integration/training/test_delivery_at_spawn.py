"""Assigned notebooks appear in a learner's home when a real hub starts their session.

The hub runs hub_config/jupyterhub_config.py plus the one line a site adds for courses
(``HOOK_LINE``); this test loads both, so it holds whether or not that line is there yet.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests
from fixtures.hub import PROXY, RunningHub, _shutdown, write_site
from fixtures.net import free_port
from realparts import require

from genesis_lab.settings import reset_settings
from genesis_lab.training import courses

REPO = Path(__file__).resolve().parents[3]
HOOK_LINE = "c.Spawner.pre_spawn_hook = pre_spawn_hook"
LAUNCH = (
    "import sys\nfrom pathlib import Path\nimport genesis_lab.hub.launcher as launcher\n"
    "launcher.CONFIG_FILE = Path(sys.argv[1])\nfrom genesis_lab.cli import main\n"
    "sys.exit(main(sys.argv[2:]))"
)


class CourseHub(RunningHub):
    """The real hub launcher, pointed at a config that adds the course hook line."""

    config: Path = Path()

    def start(self, timeout: float = 60) -> None:
        self.log_path = self.base / f"hub-{int(time.time() * 1000)}.log"
        argv = [sys.executable, "-c", LAUNCH, str(self.config), "hub", "--port", str(self.port),
                "--hub-port", str(self.hub_port), "--proxy-api-port", str(self.proxy_api_port)]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()[-4000:]
            try:
                if requests.get(f"{self.url}/hub/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        found = re.search(r"one-time password: (\S+)", self.log())
        assert found, self.log()[-4000:]
        self.admin_password = found.group(1)


@pytest.fixture(scope="module")
def course_hub(tmp_path_factory):
    require(PROXY.exists(), "configurable-http-proxy", "run `make proxy`")
    base = tmp_path_factory.mktemp("course-hub")
    os.chmod(base, 0o755)
    home = base / "home"
    home.mkdir()
    cfg = base / "jupyterhub_config.py"
    cfg.write_text(
        f"load_subconfig({str(REPO / 'hub_config' / 'jupyterhub_config.py')!r})\n"
        "from genesis_lab.training.hooks import pre_spawn_hook\n"
        "c = get_config()\n"
        f"{HOOK_LINE}\n"
    )
    site = write_site(base / "site.yaml")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GENESIS_", "JUPYTERHUB_", "PYTEST_"))}  # fmt: skip
    env.update({"GENESIS_HOME": str(home), "GENESIS_SITE_FILE": str(site)})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    hub = CourseHub(base=base, site_file=site, port=free_port(), hub_port=free_port(),
                    proxy_api_port=free_port(), env=env)  # fmt: skip
    hub.config = cfg
    hub.start()
    yield hub
    _shutdown(hub)


def _notebook(path: Path, text: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    nbformat.write(nb, path)
    return path


@pytest.mark.hub
@pytest.mark.slow
def test_assignments_delivered_at_session_start_keeping_edits(course_hub, monkeypatch, tmp_path):
    hub = course_hub
    monkeypatch.setenv("GENESIS_HOME", hub.env["GENESIS_HOME"])  # the hub's state
    monkeypatch.setenv("GENESIS_SITE_FILE", hub.env["GENESIS_SITE_FILE"])
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
