"""The widgets and the Genesis JupyterLab extension in a real browser against a real JupyterLab.

Screenshots are saved under test-artifacts/.
"""

from __future__ import annotations

import json
import time

import pytest
from fixtures.browser import screenshot
from fixtures.layout import assert_widgets_fit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _notebook(server, name: str, sources: list[str]) -> str:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": s,
                "outputs": [],
                "execution_count": None,
            }
            for s in sources
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (server.root / name).write_text(json.dumps(nb))
    return name


def _open_and_run(page, server, name: str) -> None:
    page.goto(server.lab_url(f"lab/tree/{name}?reset"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    # a cell run before the kernel is connected is silently dropped: wait for Idle
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_catalog_browser_filters_as_you_type(page, lab_server):
    name = _notebook(lab_server, "catalog.ipynb", ["import genesis_lab as gl\ngl.catalog()"])
    _open_and_run(page, lab_server, name)
    search = page.locator(".genesis-catalog-search input")
    search.wait_for(timeout=60_000)
    options = page.locator(".genesis-catalog-results select option")
    search.fill("wafer survey")
    page.wait_for_function(
        "() => { const o = document.querySelectorAll('.genesis-catalog-results select option');"
        " return o.length === 3; }",
        timeout=30_000,
    )
    texts = [t.replace("\xa0", " ") for t in options.all_inner_texts()]
    assert all("Wafer survey" in t for t in texts), texts
    search.fill("wafer survey 2")
    page.wait_for_function(
        "() => document.querySelectorAll('.genesis-catalog-results select option').length === 1",
        timeout=30_000,
    )
    assert "semiconductors/wafer-survey-2" in options.first.inner_text().replace("\xa0", " ")
    screenshot(page, "catalog-browser-filtered")
    search.fill("decay")  # an entry with a long title, a long description and a sha256
    page.wait_for_function(
        "() => document.querySelectorAll('.genesis-catalog-results select option').length >= 1"
        " && document.querySelector('.genesis-entry')"
    )
    assert_widgets_fit(page, [".genesis-catalog-browser"], "widgets-catalog-browser")


def test_side_panel_lists_catalog_and_opens_a_challenge(page, lab_server):
    page.goto(lab_server.lab_url("lab?reset"))
    tab = page.locator("li.lm-TabBar-tab[data-id='genesis-panel']")
    tab.wait_for(timeout=60_000)
    tab.click()
    panel = page.locator("#genesis-panel")
    panel.wait_for(state="visible")
    page.wait_for_selector("#genesis-panel .jp-GenesisPanel-item", timeout=30_000)
    panel.locator(".jp-GenesisPanel-search").fill("wafer survey")
    items = panel.locator(".jp-GenesisPanel-item")
    page.wait_for_function(
        "() => document.querySelectorAll('#genesis-panel .jp-GenesisPanel-item').length === 3"
    )
    assert "3 of" in panel.locator(".jp-GenesisPanel-count").inner_text()
    panel.locator(".jp-GenesisPanel-search").fill("ui demo")
    challenge = items.filter(has_text="UI demo challenge")
    challenge.wait_for()
    challenge.locator(".jp-GenesisPanel-open").click()
    page.wait_for_selector(".lm-TabBar-tab:has-text('challenge.ipynb')", timeout=30_000)
    assert (lab_server.root / "challenges" / "ui-demo" / "challenge.ipynb").exists()
    status = page.locator(".jp-GenesisStatus")
    assert "core-h" in status.inner_text()
    screenshot(page, "side-panel-challenge-opened")

    challenge.locator(".jp-GenesisPanel-run").click()
    page.wait_for_function(
        "() => document.querySelector('#genesis-panel .jp-GenesisPanel-message')"
        ".textContent.includes('Running ui-demo')"
    )
    deadline = time.monotonic() + 120
    while (state := lab_server.api("genesis/challenges/ui-demo/run"))["status"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["status"] == "succeeded", state
    metrics = lab_server.home / "results" / "ui-demo" / state["run"] / "metrics.json"
    assert json.loads(metrics.read_text())["total"] == 3


def test_simulator_slider_updates_the_plot(page, lab_server):
    name = _notebook(
        lab_server,
        "simulator.ipynb",
        [
            "import genesis_lab as gl\n"
            "from genesis_lab.widgets import SimulatorPanel\n"
            'panel = SimulatorPanel(gl.get_simulator("biotechnology/michaelis-menten"))\n'
            "panel",
            "from genesis_lab.widgets import ClusterStatus\nClusterStatus()",
            'from genesis_lab.widgets import ChallengeForm\nChallengeForm("ui-demo")',
        ],
    )
    _open_and_run(page, lab_server, name)
    status = page.locator(".genesis-sim-status")
    status.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('.genesis-sim-status').textContent.includes('run 1')"
    )
    page.locator(".genesis-sim-plot canvas").first.wait_for(timeout=60_000)
    before = page.locator(".genesis-sim-summary").inner_text()
    screenshot(page, "simulator-panel-before")
    handle = page.locator(".genesis-param-s0 .noUi-handle")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelector('.genesis-sim-status').textContent.includes('run 2')",
        timeout=30_000,
    )
    page.locator(".genesis-sim-plot canvas").first.wait_for(timeout=30_000)
    # each widget's state reaches the page in its own message: wait for the summary's
    page.wait_for_function(
        "before => document.querySelector('.genesis-sim-summary').innerText !== before",
        arg=before,
        timeout=30_000,
    )
    after = page.locator(".genesis-sim-summary").inner_text()
    assert after != before
    screenshot(page, "simulator-panel-after")
    roots = [
        ".genesis-simulator-panel",
        ".genesis-cluster-status-widget",
        ".genesis-challenge-form",
    ]
    for root in roots:
        page.locator(root).first.wait_for(timeout=30_000)
    # run 2's plot replaces run 1's (clear_output(wait=True)): the kernel has sent it when idle
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle' && document.querySelector('.genesis-sim-plot').getBoundingClientRect()"
        ".height > 200",
        timeout=30_000,
    )
    assert_widgets_fit(page, roots, "widgets")
