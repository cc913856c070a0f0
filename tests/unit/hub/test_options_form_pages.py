"""The hub's templates as JupyterHub loads them: the site's programme name on every page, the
session form's own title, one way to cancel a pending session."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyterhub._data import DATA_FILES_PATH

from genesis_lab.hub.config import hub_plan
from genesis_lab.settings import reset_settings

STOCK = os.path.join(DATA_FILES_PATH, "templates")


@pytest.fixture
def plan(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"hub": {"programme_name": "Programme <Zeta> 7"}}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return hub_plan()


def render(plan, name: str, **extra) -> str:
    """``name`` rendered through the loader JupyterHub builds from ``template_paths``."""
    base = FileSystemLoader([STOCK])
    loader = ChoiceLoader([PrefixLoader({"templates": base}, "/"),
                           FileSystemLoader([*plan.template_paths, STOCK])])  # fmt: skip
    env = Environment(loader=loader, autoescape=True)
    user = type("User", (), {"name": "alice", "admin": False, "json_escaped_name": "alice",
                             "spawner": None})()  # fmt: skip
    namespace = {"base_url": "/hub/", "prefix": "/", "static_url": lambda p, **k: f"/s/{p}",
                 "xsrf_token": "t", "xsrf": "t", "parsed_scopes": set(), "user": user,
                 "login_url": "/hub/login", "logout_url": "/hub/logout", "url": "/hub/spawn",
                 "spawner_options_form": "<p id='the-form'></p>", "progress_url": "/p",
                 "api_tokens": [], "oauth_clients": [], "server_name": "",
                 "default_server": object(), "authenticator": object(),
                 **plan.template_vars, **extra}  # fmt: skip
    return env.get_template(name).render(**namespace)


@pytest.mark.parametrize("page", ["home.html", "token.html", "spawn.html", "spawn_pending.html",
                                  "admin.html", "login.html", "404.html"])  # fmt: skip
def test_every_page_carries_the_sites_programme_name_and_mark(plan, page):
    html = render(plan, page)
    assert "<title>Programme &lt;Zeta&gt; 7</title>" in html
    assert 'id="genesis-brand"' in html and 'class="genesis-mark"' in html
    assert '<span class="genesis-programme">Programme &lt;Zeta&gt; 7</span>' in html
    assert "jpy-logo" not in html  # JupyterHub's own logo is replaced, not added to


def test_the_session_form_has_its_own_title_and_the_form(plan):
    html = render(plan, "spawn.html")
    assert "Start your session" in html and "Server Options" not in html
    assert "<p id='the-form'></p>" in html
    assert "genesis-allocation" in html  # the inline checks are on the page


def test_sign_up_links_follow_the_authenticator(plan):
    assert "change-password" in render(plan, "home.html")
    plan.site.authenticator = "oauth"
    assert "change-password" not in render(plan, "home.html")


def test_the_pending_page_offers_one_way_to_cancel(plan):
    html = render(plan, "spawn_pending.html", spawner=None)
    assert html.count('id="genesis-cancel"') == 1
    assert "Starting your session" in html
    # JupyterHub 6 adds a stop button of its own; the page hides it when it is there
    assert re.search(r'getElementById\("stop-server-btn"\);\s*if \(stock\) \{\s*stock\.parentElement'
                     r"\.hidden = true;", html)  # fmt: skip


def test_the_pending_page_speaks_of_a_queue_only_where_sessions_are_batch_jobs(plan):
    assert "place in the queue" not in render(plan, "spawn_pending.html", spawner=None)
    plan.site.spawner = "slurm"
    assert "place in the queue" in render(plan, "spawn_pending.html", spawner=None)
