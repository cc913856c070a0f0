"""The system-use notice in a real browser: shown before the sign-in and sign-up forms, and the
form does not go until its box is ticked; screenshots under test-artifacts/."""

from __future__ import annotations

import pytest
from fixtures.browser import screenshot
from fixtures.hub import PASSWORD

from genesis_lab.hub.notice import DEFAULT_NOTICE, paragraphs

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


def notice_above(page, field: str) -> None:
    notice = page.locator("#genesis-notice")
    assert notice.is_visible()
    text = " ".join(notice.inner_text().split())
    assert all(p in text for p in paragraphs(DEFAULT_NOTICE)), text  # the site's notice, whole
    notice_box, field_box = notice.bounding_box(), page.locator(field).bounding_box()
    assert notice_box and field_box and notice_box["y"] + notice_box["height"] <= field_box["y"]
    box = page.locator("#genesis-notice-ack")
    assert box.is_visible() and box.is_enabled() and not box.is_checked()
    assert box.get_attribute("required") is not None


def test_the_notice_comes_before_the_forms_and_must_be_ticked(hub, page):
    name = hub.new_user()
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/signup")
    notice_above(page, "#username_input")
    screenshot(page, "hub-signup-notice")

    page.goto(f"{hub.url}/hub/login")
    notice_above(page, "#username_input")
    screenshot(page, "hub-login-notice")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")  # not ticked: the browser keeps the form
    page.wait_for_timeout(500)
    assert page.url.split("?")[0].endswith("/hub/login")
    assert not page.locator("#genesis-notice-ack").evaluate("el => el.checkValidity()")
    page.check("#genesis-notice-ack")
    page.click("#login_submit")
    page.wait_for_function("!location.pathname.endsWith('/hub/login')")
    assert "/hub/login" not in page.url
