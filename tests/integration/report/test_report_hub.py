"""The report counts the users of a real hub through its REST API."""

from __future__ import annotations

import datetime as dt

import pytest

from genesis_lab.report import collect
from genesis_lab.settings import reset_settings


@pytest.mark.hub
def test_active_hub_users_from_the_rest_api(hub, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.ensure_admin_token())
    reset_settings()
    name = hub.new_user()
    hub.user_token(name)  # logs in: the hub records the user's activity
    today = dt.datetime.now(dt.UTC).date()
    report = collect(today - dt.timedelta(days=1), today)
    assert name in report.engagement.active_users
    assert report.engagement.hub_users >= 2  # the admin and this user
    assert report.engagement.running_sessions is not None
    assert report.platform.hub["configured"] is True
    old = collect(today - dt.timedelta(days=800), today - dt.timedelta(days=400))
    assert name not in old.engagement.active_users
