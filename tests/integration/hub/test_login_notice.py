"""The system-use notice (AC-8) on a real hub: the server refuses a login or sign-up posted
without its acknowledgement, and the genesis service audits each acknowledged login in the
user's name. Also JupyterHub 6's spawn options (``opt-`` queries, ``user_options`` bodies) and
its ``SpawnException`` reasons, and nativeauthenticator's password change. Uses the session's
shared ``hub``."""

from __future__ import annotations

import html
import time

import pytest
from fixtures.hub import PASSWORD
from fixtures.notice import assert_audited_once, notice_records
from prometheus_client.parser import text_string_to_metric_families

from genesis_lab.hub.notice import ACK_FIELD, NOT_ACKNOWLEDGED

pytestmark = pytest.mark.slow


def test_login_without_the_acknowledgement_is_refused_and_with_it_audited(hub):
    name = hub.new_user()
    page = hub.new_session().get(f"{hub.url}/hub/login", timeout=30).text
    assert f'name="{ACK_FIELD}"' in page and "System-use notice" in page
    assert page.index('id="genesis-notice"') < page.index('id="username_input"')

    refused = hub.login(name, acknowledge=False)  # the right password, no acknowledgement
    assert refused.login_response.status_code == 403
    assert "jupyterhub-hub-login" not in refused.cookies
    assert NOT_ACKNOWLEDGED in html.unescape(refused.login_response.text)
    wrong = hub.login(name, "not-the-password")  # acknowledged, but no login: nothing audited
    assert "jupyterhub-hub-login" not in wrong.cookies
    assert notice_records(hub, name) == []

    before = time.time()
    signed_in = hub.login(name)
    assert "jupyterhub-hub-login" in signed_in.cookies, signed_in.login_response.text[-1500:]
    assert_audited_once(hub, name, since=before)


def test_sign_up_without_the_acknowledgement_creates_nobody(hub):
    s = hub.new_session()
    page = s.get(f"{hub.url}/hub/signup", timeout=30)
    assert f'name="{ACK_FIELD}"' in page.text and 'id="genesis-notice"' in page.text
    name = f"nack{int(time.time() * 1000) % 10**8}"
    data = {"username": name, "signup_password": "correct-horse-battery-9",
            "signup_password_confirmation": "correct-horse-battery-9",
            "_xsrf": hub._xsrf(s, page.text)}  # fmt: skip
    r = s.post(f"{hub.url}/hub/signup", data=data, timeout=30)
    assert r.status_code == 403 and NOT_ACKNOWLEDGED in html.unescape(r.text)
    authorize = hub.admin_browser().get(f"{hub.url}/hub/authorize", timeout=30).text
    assert name not in authorize  # no account waits for approval
    assert "sent to the admin" in hub.signup(name).text  # the name is still free


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_jupyterhub_6_options_and_refusal_reasons(hub):
    name = hub.new_user()
    s = hub.login(name)
    # /hub/spawn?opt-... (JupyterHub 6's prefix) goes through the same checks as the form
    r = s.get(f"{hub.url}/hub/spawn", params={"opt-allocation": "restricted"}, timeout=30)
    assert r.status_code == 403 and "is not a member of allocation" in r.text
    assert 'name="allocation"' in r.text  # the form again

    # user_options in a POST body; the hub labels the refusal in its own spawn metric
    admin = hub.ensure_admin_token()
    count = "jupyterhub_server_spawn_duration_seconds_count"
    before = metric(hub.api("GET", "/metrics", admin).text, count, status="failure",
                    reason="not-member")  # fmt: skip
    r = hub.api("POST", f"/users/{name}/server", hub.user_token(name),
                json={"user_options": {"allocation": "restricted"}})  # fmt: skip
    assert r.status_code == 403, r.text
    assert "is not a member of allocation 'restricted'" in r.json()["message"]
    after = hub.api("GET", "/metrics", admin).text
    assert metric(after, count, status="failure", reason="not-member") == before + 1
    assert metric(after, "genesis_spawn_refusals_total", allocation="restricted",
                  reason="not-member") >= 1  # fmt: skip


def test_a_user_changes_their_password_and_signs_in_with_the_new_one(hub):
    name = hub.new_user()
    s = hub.login(name)
    page = s.get(f"{hub.url}/hub/change-password", timeout=30)
    assert page.status_code == 200
    new = "another-horse-staple-7"
    r = s.post(f"{hub.url}/hub/change-password", timeout=30, data={
        "old_password": PASSWORD, "new_password": new, "new_password_confirmation": new,
        "_xsrf": hub._xsrf(s, page.text)})  # fmt: skip
    assert "changed successfully" in r.text, r.text[-1500:]
    assert "jupyterhub-hub-login" not in hub.login(name).cookies  # the old one no longer works
    assert "jupyterhub-hub-login" in hub.login(name, new).cookies
