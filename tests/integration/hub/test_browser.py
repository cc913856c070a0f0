"""A real browser through the hub: log in, pick an allocation, JupyterLab, run a cell; and every
hub page with the programme's name, laid out without overflow, with a screenshot of each; a
one-time password's change form first, its Show/Hide control drawn and keyboard-usable."""

from __future__ import annotations

import contextlib
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fixtures.browser import screenshot
from fixtures.hub import PASSWORD

from genesis_lab.hub.passwords import ONE_TIME_MESSAGE

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

PROGRAMME = "Genesis Mission — genesis-lab"  # hub.programme_name's default (the fixture's site)
NARROW = {"width": 420, "height": 900}
WIDE = {"width": 1400, "height": 900}

# Elements that stick out of their parent's box, or whose content is wider than they are (cut or
# spilling text), and whether the page itself scrolls sideways. Scroll containers may scroll.
OVERFLOWS = """() => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    out.push(`page: ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const skip = new Set(["SCRIPT", "STYLE", "OPTION", "NOSCRIPT", "BR", "TEMPLATE"]);
  for (const el of document.body.querySelectorAll("*")) {
    if (skip.has(el.tagName) || el.ownerSVGElement) continue;
    if (el.closest(".visually-hidden, .sr-only")) continue;  // for screen readers: 1px
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (style.position === "fixed" || style.position === "absolute") continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const parent = el.parentElement;
    const pbox = parent.getBoundingClientRect();
    const pstyle = getComputedStyle(parent);
    const scrolls = ["auto", "scroll"].includes(pstyle.overflowX);
    if (!scrolls && (box.left < pbox.left - 1 || box.right > pbox.right + 1)) {
      out.push(`${name(el)} [${Math.round(box.left)}, ${Math.round(box.right)}] outside ` +
               `${name(parent)} [${Math.round(pbox.left)}, ${Math.round(pbox.right)}]`);
    }
    const own = ["auto", "scroll"].includes(style.overflowX);
    const field = ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName);
    if (!own && !field && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      out.push(`${name(el)}: content ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
  }
  return out;
}"""

# Controls a person would use: visible, inside the window's width; a form's ones enabled (a
# "Previous" of the first page of a list is rightly not).
CONTROLS = """() => Array.from(document.querySelectorAll(
    "main input:not([type=hidden]), form input:not([type=hidden]), select, textarea, button, a.btn"))
  .filter((el) => el.offsetParent !== null && !el.closest("[hidden], .modal, .collapse:not(.show)"))
  .map((el) => {
    const box = el.getBoundingClientRect();
    let scroller = false;  // inside a box that scrolls sideways: reachable by scrolling it
    for (let a = el.parentElement; a && !scroller; a = a.parentElement) {
      scroller = ["auto", "scroll"].includes(getComputedStyle(a).overflowX);
    }
    return {name: el.id || el.name || el.textContent.trim().slice(0, 30), form: !!el.closest("form"),
            scroller,
            disabled: el.disabled,
            width: box.width, height: box.height, left: box.left, right: box.right};
  })"""

# For each field group of the session form: its label's top and the bottom of what is above it.
FORM_GAPS = """() => {
  const groups = Array.from(document.querySelectorAll("#genesis-session-form > .mb-3"));
  return groups.map((g, i) => {
    const label = g.querySelector("label").getBoundingClientRect();
    const field = g.querySelector("input, select").getBoundingClientRect();
    const prev = i ? groups[i - 1] : null;
    const prevField = prev ? prev.querySelector("input, select").getBoundingClientRect() : null;
    return {label: g.querySelector("label").textContent.trim(), labelTop: label.top,
            labelBottom: label.bottom, fieldTop: field.top,
            prevBottom: prev ? prev.getBoundingClientRect().bottom : null,
            prevFieldBottom: prevField ? prevField.bottom : null};
  });
}"""


def login(page, url: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the login page (acknowledging a notice the page may require)."""
    page.goto(f"{url}/hub/login")
    page.fill("input#username_input", name)
    page.fill("input#password_input", password)
    for box in page.locator("form input[type=checkbox][required]").all():
        box.check()
    page.click("#login_submit")
    page.wait_for_function("!location.pathname.endsWith('/hub/login')")
    page.wait_for_load_state()


def check_layout(page, label: str, sizes: tuple[dict, ...] = (WIDE,)) -> None:
    """The page shows the programme's name and mark, nothing overflows its container, every
    control is visible, inside the window and enabled; one screenshot per size."""
    for size in sizes:
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # a relayout after the resize
        brand = page.locator("#genesis-brand")
        assert brand.is_visible(), label
        assert PROGRAMME in brand.inner_text(), label
        mark = page.locator("#genesis-brand svg.genesis-mark").bounding_box()
        assert mark and mark["width"] >= 20 and mark["height"] >= 20, (label, mark)
        assert page.title() == PROGRAMME, label
        assert page.evaluate(OVERFLOWS) == [], (label, size)
        for control in page.evaluate(CONTROLS):
            assert not (control["form"] and control["disabled"]), (label, control)
            assert control["width"] > 0 and control["height"] > 0, (label, control)
            inside = control["left"] >= 0 and control["right"] <= size["width"]
            assert inside or control["scroller"], (label, control)
        suffix = "" if size is WIDE else f"-{size['width']}px"
        screenshot(page, f"hub-{label}{suffix}")
    page.set_viewport_size(WIDE)


def balance_numbers(text: str) -> tuple[float, ...]:
    return tuple(float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text))


def use_hub_ledger(hub, monkeypatch):
    """The hub's own usage ledger, through the public ledger API with the hub's settings."""
    from genesis_lab.compute import ledger
    from genesis_lab.settings import reset_settings

    monkeypatch.setenv("GENESIS_HOME", hub.env["GENESIS_HOME"])
    monkeypatch.setenv("GENESIS_SITE_FILE", hub.env["GENESIS_SITE_FILE"])
    reset_settings()
    return ledger


def test_login_pick_allocation_and_run_a_cell_in_jupyterlab(hub, page):
    name = hub.new_user()
    page.set_default_timeout(60_000)
    login(page, hub.url, name)
    page.goto(f"{hub.url}/hub/spawn")
    page.select_option("select#genesis-allocation", "physics-slurm")
    page.fill("input#genesis-memory", "1GB")
    screenshot(page, "hub-options-form")
    page.click("#spawn_form button[type=submit]", no_wait_after=True)
    look_at_the_pending_page(hub, page, name)
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    page.goto(f"{hub.url}/user/{name}/lab?reset")
    page.locator(".jp-Launcher").first.wait_for()
    page.locator('.jp-LauncherCard[title*="Python 3"]').first.click()
    page.locator(".jp-Notebook").first.wait_for()
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=90_000)
    cell = page.locator(".jp-Cell .cm-content").first
    cell.click()
    page.keyboard.type(
        "import os, genesis_lab; print('GENESIS', genesis_lab.__version__, "
        "os.environ['GENESIS_ALLOCATION'])"
    )
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").filter(has_text="GENESIS")
    output.first.wait_for(timeout=60_000)
    text = output.first.inner_text()
    screenshot(page, "hub-jupyterlab-cell")
    assert "physics-slurm" in text
    import genesis_lab

    assert genesis_lab.__version__ in text
    page.goto(f"{hub.url}/hub/home")
    assert page.locator("#stop").is_visible()
    check_layout(page, "home-running", (WIDE, NARROW))


def look_at_the_pending_page(hub, page, name: str) -> None:
    """While the spawn the page posted is pending, the pending page in a second tab (its progress
    stream held back, so it stays drawn): layout and screenshot."""
    token = hub.ensure_admin_token()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        server = hub.api("GET", f"/users/{name}", token).json()["servers"].get("", {})
        if server.get("pending") == "spawn":
            break
        assert not server.get("ready"), "the session was ready before the hub showed it pending"
        time.sleep(0.05)
    pending = page.context.new_page()
    try:
        pending.route(  # an open stream with no events yet; the browser waits to reconnect
            "**/server/progress**",
            lambda route: route.fulfill(
                status=200, headers={"Content-Type": "text/event-stream"}, body="retry: 600000\n\n"
            ),
        )
        pending.goto(f"{hub.url}/hub/spawn-pending/{name}")
        assert "/spawn-pending/" in pending.url, pending.url
        assert pending.locator("#genesis-cancel").is_visible()
        stops = pending.locator("button:visible", has_text=re.compile("Cancel|Stop"))
        assert stops.count() == 1  # JupyterHub 6 draws a stop button of its own: one is shown
        check_layout(pending, "spawn-pending", (WIDE, NARROW))
    finally:
        pending.close()


def test_every_hub_page_is_branded_and_laid_out(hub, page, monkeypatch):
    ledger = use_hub_ledger(hub, monkeypatch)
    for allocation, cores, seconds in (("spent", 3, 1234), ("open-local", 2, 2023)):
        ledger.get_ledger().record(ledger.UsageRecord.from_times(
            allocation=allocation, user="browser-test", kind="cluster", ref=f"bt-{time.time()}",
            cores=cores, start=0, end=seconds, source="worker-lifetime"))  # fmt: skip
    name = hub.new_user()
    page.set_default_timeout(60_000)

    page.goto(f"{hub.url}/hub/login")
    check_layout(page, "login", (WIDE, NARROW))
    page.goto(f"{hub.url}/hub/signup")
    check_layout(page, "signup")

    login(page, hub.url, name)
    page.goto(f"{hub.url}/hub/home")
    check_layout(page, "home", (WIDE, NARROW))

    # the session form
    page.goto(f"{hub.url}/hub/spawn")
    assert page.locator("h1").inner_text() == "Start your session"
    select = page.locator("select#genesis-allocation")
    labels = select.locator("option").all_inner_texts()
    assert labels and all(
        not re.fullmatch(r"(.+) — \1", t.replace(" (budget spent)", "")) for t in labels
    ), labels
    style = select.evaluate(
        "el => { const s = getComputedStyle(el); return {image: s.backgroundImage, "
        "repeat: s.backgroundRepeat, appearance: s.appearance, pad: s.paddingRight}; }"
    )
    assert style["image"].startswith("url(") and "svg" in style["image"], style  # the arrow
    assert style["repeat"].startswith("no-repeat") and style["appearance"] == "none", style
    gaps = page.evaluate(FORM_GAPS)
    assert [g["label"] for g in gaps] == ["Allocation", "Cores", "Memory", "Walltime"]
    for gap in gaps:
        assert gap["labelBottom"] <= gap["fieldTop"] + 0.5, gap  # label above its field
        if gap["prevBottom"] is not None:
            assert gap["labelTop"] - gap["prevBottom"] >= 8, gap  # apart from what is above
            assert gap["labelTop"] > gap["prevFieldBottom"], gap
    for field in ("allocation", "cores", "memory", "walltime"):
        help_text = page.locator(f"#genesis-{field}-help")
        assert help_text.is_visible() and len(help_text.inner_text()) > 20, field

    def shown_balance() -> str:
        cards = page.locator(".genesis-allocation-details:visible")
        assert cards.count() == 1
        return cards.locator(".genesis-balance").inner_text()

    used = ledger.used_core_hours("open-local")
    assert used > 0
    select.select_option("open-local")
    assert shown_balance().startswith("No budget set"), shown_balance()
    assert balance_numbers(shown_balance()) == (round(used, 2),)
    check_layout(page, "spawn-form", (WIDE, NARROW))

    select.select_option("spent")
    used = ledger.used_core_hours("spent")
    budget = 0.0  # the fixture's allocation 'spent'
    left = max(budget - used, 0.0)
    assert balance_numbers(shown_balance()) == (round(left, 2), budget, round(used, 2))
    feedback = page.locator("#genesis-allocation-feedback")
    assert feedback.is_visible() and "choose another allocation" in feedback.inner_text()

    # inline validation names what is allowed, and the form is not posted
    select.select_option("open-local")
    assert not feedback.is_visible()
    page.fill("#genesis-cores", "9")
    page.fill("#genesis-memory", "lots")
    page.fill("#genesis-walltime", "03:00:00")
    page.click("#spawn_form button[type=submit]")
    for field, words in (("cores", "from 1 to 2"), ("memory", "such as 2GB"),
                         ("walltime", "at most 02:00:00")):  # fmt: skip
        message = page.locator(f"#genesis-{field}-feedback")
        assert message.is_visible() and words in message.inner_text(), field
    assert page.url.endswith("/hub/spawn")
    assert page.locator(".spawn-error-msg").count() == 0  # nothing was posted
    check_layout(page, "spawn-form-invalid")
    select.select_option("physics-slurm")  # its own limits: 2 cores, 2GB, 01:00:00
    assert "at most 01:00:00" in page.locator("#genesis-walltime-feedback").inner_text()
    assert page.locator("[data-genesis-limit=memory]").inner_text() == "2GB"

    # the server checks everything again: post past the page's checks
    select.select_option("open-local")
    page.fill("#genesis-memory", "1GB")
    page.fill("#genesis-walltime", "00:30:00")
    page.evaluate("document.getElementById('spawn_form').submit()")  # no submit event
    page.wait_for_load_state()
    error = page.locator(".spawn-error-msg")
    assert "Request beyond the limits" in error.inner_text() and "cores=9" in error.inner_text()
    check_layout(page, "spawn-refused")

    hub.user_token(name)  # a token, so the page lists one in its table
    page.goto(f"{hub.url}/hub/token")
    assert page.locator("#api-tokens-table").is_visible()
    check_layout(page, "token", (WIDE, NARROW))
    page.goto(f"{hub.url}/hub/change-password")
    check_layout(page, "change-password")

    # the admin's pages
    admin = page.context.browser.new_context(viewport=WIDE)
    try:
        apage = admin.new_page()
        apage.set_default_timeout(60_000)
        login(apage, hub.url, hub.admin_user, hub.admin_password)
        apage.goto(f"{hub.url}/hub/admin")
        apage.get_by_text(name).first.wait_for()
        check_layout(apage, "admin")
        apage.goto(f"{hub.url}/hub/authorize")
        check_layout(apage, "authorize")
        # nativeauthenticator's Bootstrap 3 buttons look like buttons under Bootstrap 5
        looks = apage.locator("a.btn-default").first.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).borderTopStyle]"
        )
        assert looks[0] not in ("rgba(0, 0, 0, 0)", "transparent") and looks[1] != "none", looks
    finally:
        admin.close()


# Characters of ``text`` drawn as the font's missing-glyph box ("tofu"): as wide, in the
# element's own font, as a code point no font has.
TOFU = """(el) => {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = getComputedStyle(el).font;
  const missing = ctx.measureText(String.fromCodePoint(0x10FFFD)).width;
  return Array.from(el.textContent.trim()).filter((ch) => ctx.measureText(ch).width === missing);
}"""


def test_a_one_time_password_leads_to_the_change_form_first(hub, page):
    """Found walking make up: after signing in with the password ``reset-password`` (or ``up``)
    printed, the admin went straight on and the password kept working; the form's show-password
    eye was an emoji, an empty box without an emoji font."""
    hub.ensure_admin_token()  # the admin has a password of their own before the reset
    one_time = hub.issue_one_time_password()
    chosen = f"chosen-{time.time_ns()}"
    page.set_default_timeout(60_000)
    try:
        login(page, hub.url, hub.admin_user, one_time)
        assert urlsplit(page.url).path == "/hub/change-password", page.url
        assert page.locator("#genesis-one-time").inner_text().strip() == ONE_TIME_MESSAGE
        page.goto(f"{hub.url}/hub/home")  # any other page leads back here
        assert urlsplit(page.url).path == "/hub/change-password", page.url
        assert parse_qs(urlsplit(page.url).query)["next"] == ["/hub/home"]
        check_layout(page, "change-password-one-time", (WIDE, NARROW))

        toggle = page.get_by_role("button", name="Show passwords")
        box = toggle.bounding_box()
        assert box and box["width"] >= 24 and box["height"] >= 16, box
        assert re.fullmatch(r"[A-Za-z]+", toggle.inner_text().strip()), toggle.inner_text()
        assert toggle.evaluate(TOFU) == []
        page.fill("#old_password_input", one_time)
        page.fill("#new_password_input", chosen)
        page.fill("#new_password_confirmation_input", chosen)
        fields = "#old_password_input, #new_password_input, #new_password_confirmation_input"
        page.focus("#new_password_input")
        page.keyboard.press("Tab")  # the toggle is next in the keyboard order
        assert page.evaluate("document.activeElement.id") == "genesis-password-toggle"
        page.keyboard.press("Enter")
        hide = page.get_by_role("button", name="Hide passwords")
        assert hide.get_attribute("aria-pressed") == "true" and hide.inner_text() == "Hide"
        assert page.eval_on_selector_all(fields, "fs => fs.map(f => f.type)") == ["text"] * 3
        assert hide.evaluate(TOFU) == []
        screenshot(page, "hub-change-password-shown")
        page.keyboard.press("Space")
        assert page.eval_on_selector_all(fields, "fs => fs.map(f => f.type)") == ["password"] * 3

        page.click("#signup_submit")
        page.wait_for_load_state()
        result = page.locator("#genesis-password-result").inner_text()
        assert "Your password has been changed" in result, result
        assert page.locator("#genesis-one-time").count() == 0
        screenshot(page, "hub-change-password-done")
        page.click("#genesis-continue")
        page.wait_for_url("**/hub/home")
        hub.admin_password = chosen
    except BaseException:
        with contextlib.suppress(AssertionError, requests.RequestException):
            hub.admin_password = hub.choose_password(hub.login(hub.admin_user, one_time), one_time)
        raise

    fresh = page.context.browser.new_context(viewport=WIDE)
    try:
        again = fresh.new_page()
        again.set_default_timeout(60_000)
        again.goto(f"{hub.url}/hub/login")
        again.fill("input#username_input", hub.admin_user)
        again.fill("input#password_input", one_time)  # issued once: gone
        for box in again.locator("form input[type=checkbox][required]").all():
            box.check()
        again.click("#login_submit")
        again.wait_for_load_state()
        assert urlsplit(again.url).path == "/hub/login"
        assert "Invalid username or password" in again.locator(".login_error").inner_text()
        login(again, hub.url, hub.admin_user, chosen)
        again.goto(f"{hub.url}/hub/home")
        assert urlsplit(again.url).path == "/hub/home", again.url  # no change form any more
    finally:
        fresh.close()
