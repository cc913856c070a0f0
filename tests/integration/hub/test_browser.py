"""A real browser through the hub: log in, pick an allocation, JupyterLab, run a cell."""

from __future__ import annotations

import pytest
from fixtures.browser import screenshot
from fixtures.hub import PASSWORD

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


def test_login_pick_allocation_and_run_a_cell_in_jupyterlab(hub, page):
    name = hub.new_user()
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("input#username_input", name)
    page.fill("input#password_input", PASSWORD)
    page.click("#login_submit")
    page.goto(f"{hub.url}/hub/spawn")
    page.select_option("select#genesis-allocation", "physics-slurm")
    page.fill("input#genesis-memory", "1GB")
    screenshot(page, "hub-options-form")
    page.click("#spawn_form button[type=submit]")
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
