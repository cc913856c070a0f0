"""The report counts the users and running sessions of a real hub through its REST API."""

from __future__ import annotations

import datetime as dt

import pytest

from genesis_lab.report import collect
from genesis_lab.report.render import to_html
from genesis_lab.settings import reset_settings


@pytest.mark.hub
def test_hub_users_and_running_sessions_from_the_rest_api(hub, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.ensure_admin_token())
    reset_settings()
    today = dt.datetime.now(dt.UTC).date()

    def engagement():
        report = collect(today - dt.timedelta(days=1), today)
        e = report.engagement
        shown = f"{e.hub_users} hub users, {e.running_sessions} sessions running now"
        assert shown in to_html(report)  # the figures are the ones the report prints
        assert report.platform.hub["configured"] is True
        return e

    before = engagement()
    assert before.running_sessions is not None
    name = hub.new_user()  # signed up and approved: a hub user who never logged in
    approved = engagement()
    assert approved.hub_users == before.hub_users + 1
    assert name not in approved.active_users
    hub.user_token(name)  # logs in: the hub records the user's activity
    now = engagement()
    assert now.hub_users == before.hub_users + 1
    assert name in now.active_users
    assert now.running_sessions == before.running_sessions

    assert hub.spawn(name, {"allocation": "open-local"}).status_code in (201, 202)
    hub.wait_ready(name)
    assert engagement().running_sessions == before.running_sessions + 1
    hub.stop_server(name)
    assert engagement().running_sessions == before.running_sessions

    old = collect(today - dt.timedelta(days=800), today - dt.timedelta(days=400))
    assert name not in old.engagement.active_users
