"""A course is a hub group: created and filled through a real hub's REST API."""

from __future__ import annotations

import secrets

import pytest

from genesis_lab.errors import CourseError
from genesis_lab.settings import reset_settings
from genesis_lab.training import courses


@pytest.mark.hub
def test_course_group_and_members_on_the_real_hub(hub, monkeypatch):
    token = hub.ensure_admin_token()
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    reset_settings()
    learners = [hub.new_user(), hub.new_user()]
    name = f"h{secrets.token_hex(3)}"
    course = courses.create_course(name, title="On the hub")
    assert hub.api("GET", f"/groups/{course.group}", token).json()["users"] == []
    courses.enroll(name, learners)
    group = hub.api("GET", f"/groups/{course.group}", token).json()
    assert sorted(group["users"]) == sorted(learners)
    # signed-up (vetted) users who never logged in get their hub user created
    assert hub.api("GET", f"/users/{learners[0]}", token).status_code == 200
    # bad names never reach the hub
    with pytest.raises(CourseError, match="not a valid user name"):
        courses.enroll(name, ["Robert'); DROP"])
    assert courses.get_course(name).learners == learners
