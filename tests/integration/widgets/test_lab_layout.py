"""Layout facts of the Genesis side panel and its status-bar item, measured in a real chromium
against the session's JupyterLab: nothing runs past the panel, titles are whole, groups and
markings are shown, every control is visible and enabled, the dataset action writes its code into
a real notebook cell, the status-bar item lines up. Screenshots go to test-artifacts/. (The
notebook widgets' widths are checked in test_lab_ui.py, in the notebooks those tests run.)
"""

from __future__ import annotations

import json

import pytest
from fixtures.browser import ARTIFACTS, screenshot
from fixtures.layout import CONTROLS, OVERFLOW

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUPS = {"dataset": "Datasets", "model": "Models", "simulator": "Simulators",
          "challenge": "Challenges"}  # fmt: skip
MARKINGS = ["public", "controlled", "proprietary", "export-controlled"]


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _write_notebook(server, name: str, sources: list[str]) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [],
              "execution_count": None} for s in sources]  # fmt: skip
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (server.root / name).write_text(json.dumps(nb))


def _open_panel(page, server, path: str):
    page.goto(server.lab_url(f"{path}?reset"))
    tab = page.locator("li.lm-TabBar-tab[data-id='genesis-panel']")
    tab.wait_for(timeout=60_000)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    panel = page.locator("#genesis-panel")
    panel.wait_for(state="visible")
    page.wait_for_selector("#genesis-panel .jp-GenesisPanel-item", timeout=30_000)
    return panel


def _fulfil(route, body, status=200):
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


class AgentGate:
    """The MCP gate's REST contract, answered by the test (the real one lists nothing pending)."""

    def __init__(self):
        self.pending = [
            {"id": "req-1", "tool": "gl.sweep", "digest": "ab12cd", "core_hours": 12.5,
             "batch": 36, "reason": "over the 10 core-h gate",
             "created": "2026-12-04T22:00:00+00:00"},
        ]  # fmt: skip
        self.posts: list[str] = []

    def __call__(self, route):
        url = route.request.url.split("?")[0]
        if route.request.method == "GET":
            _fulfil(route, self.pending)
        elif url.endswith("/agent/stop"):
            self.posts.append("stop")
            _fulfil(route, {"tokens_revoked": 2, "work_cancelled": 1, "jobs_cancelled": 3,
                            "seconds": 0.4})  # fmt: skip
        else:
            rid, decision = url.split("/")[-2:]
            self.posts.append(f"{rid}/{decision}")
            self.pending.clear()
            _fulfil(route, {"id": rid, "decision": decision})


def test_side_panel_groups_titles_badges_actions_agents_and_status_bar(page, lab_server):
    records = lab_server.api("genesis/catalog")
    by_id = {r["id"]: r for r in records}
    _write_notebook(lab_server, "insert.ipynb", [""])
    gate = AgentGate()
    page.route("**/genesis/agent/**", gate)
    page.set_viewport_size({"width": 1024, "height": 768})
    panel = _open_panel(page, lab_server, "lab/tree/insert.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    agents = panel.locator(".jp-GenesisPanel-agents")
    request = agents.locator(".jp-GenesisPanel-agentRequest[data-id='req-1']")
    request.wait_for(timeout=30_000)

    headings = panel.locator(".jp-GenesisPanel-group .jp-GenesisPanel-heading").all_inner_texts()
    kinds = {r["kind"] for r in records}
    assert [h.lower() for h in headings] == [h.lower() for k, h in GROUPS.items() if k in kinds]
    rows = panel.locator(".jp-GenesisPanel-group .jp-GenesisPanel-item")
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#genesis-panel .jp-GenesisPanel-group')].flatMap(
          g => [...g.querySelectorAll('.jp-GenesisPanel-item')].map(li => {
            const t = li.querySelector('.jp-GenesisPanel-title');
            const badge = li.querySelector('.jp-GenesisPanel-badge');
            const s = badge ? getComputedStyle(badge) : null;
            return {group: g.dataset.kind, id: li.dataset.id, text: t.textContent,
                    hover: t.title, whole: t.scrollWidth <= t.clientWidth + 1
                      && t.scrollHeight <= t.clientHeight + 1,
                    marking: badge && badge.textContent, fg: s && s.color,
                    bg: s && s.backgroundColor,
                    actions: [...li.querySelectorAll('button')].map(b => b.textContent)};
          }))"""
    )
    assert rows.count() == len(shown) == len(records)
    for row in shown:
        rec = by_id[row["id"]]
        assert row["group"] == rec["kind"] and row["text"] == rec["title"], row
        assert row["whole"] and rec["id"] in row["hover"], row
        assert row["marking"] == rec["marking"], row
        assert _contrast(row["fg"], row["bg"]) >= 4.5, row
        want = ["Open", "Run"] if rec["kind"] == "challenge" else ["Insert"]
        assert row["actions"] == want, row
    # every marking's badge (this lab's catalog is public only: drawn here from the stylesheet)
    styles = page.evaluate(
        """(markings) => markings.map(m => {
          const b = document.createElement('span');
          b.className = `jp-GenesisPanel-badge jp-GenesisPanel-badge-${m}`;
          b.textContent = m;
          document.querySelector('#genesis-panel .jp-GenesisPanel-meta').appendChild(b);
          const s = getComputedStyle(b);
          const out = {fg: s.color, bg: s.backgroundColor, border: s.borderTopColor};
          b.remove();
          return out;
        })""",
        MARKINGS,
    )
    for marking, s in zip(MARKINGS, styles, strict=True):
        assert _contrast(s["fg"], s["bg"]) >= 4.5, (marking, s)
    assert len({s["bg"] for s in styles}) == len({s["border"] for s in styles}) == len(MARKINGS)
    assert "gl.sweep" in request.inner_text() and "12.5 core-h" in request.inner_text()
    assert page.evaluate(OVERFLOW, "#genesis-panel") == []
    controls = page.evaluate(CONTROLS, "#genesis-panel")
    bad = [c for c in controls if not c["visible"] or c["disabled"] or not c["fits"]]
    # the filter box, Stop agents, Approve and Reject, and each row's actions
    row_actions = sum(2 if r["kind"] == "challenge" else 1 for r in records)
    assert len(controls) == 4 + row_actions and bad == [], bad
    screenshot(page, "side-panel-grouped")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "side-panel-only.png"))

    # the dataset action: the empty active cell first, then a new cell below it
    dataset = sorted(r["id"] for r in records if r["kind"] == "dataset")[0]
    simulator = sorted(r["id"] for r in records if r["kind"] == "simulator")[0]
    panel.locator(f".jp-GenesisPanel-item[data-id='{dataset}'] .jp-GenesisPanel-insert").click()
    panel.locator(f".jp-GenesisPanel-item[data-id='{simulator}'] .jp-GenesisPanel-insert").click()
    page.evaluate("window.jupyterapp.shell.currentWidget.context.save()")
    expected = [
        f'import genesis_lab as gl\nds = gl.open_dataset("{dataset}")',
        f'import genesis_lab as gl\nsim = gl.get_simulator("{simulator}")\nsim.run(seed=0)',
    ]
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    saved = json.loads((lab_server.root / "insert.ipynb").read_text())
    assert ["".join(c["source"]) for c in saved["cells"]] == expected
    screenshot(page, "side-panel-inserted-code")

    # the status-bar item sits on the same line as JupyterLab's own text items
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem,'
          + ' #jp-main-statusbar .jp-GenesisStatus-text')]
          .filter(e => e.getBoundingClientRect().height > 0)
          .map(e => ({ours: !!e.closest('.jp-GenesisStatus'), text: e.textContent,
                      ...JSON.parse(JSON.stringify(e.getBoundingClientRect()))}))"""
    )
    ours = [b for b in boxes if b["ours"]]
    others = [b for b in boxes if not b["ours"]]
    assert len(ours) == 1 and others, boxes
    assert "core-h" in ours[0]["text"]
    for b in others:
        assert abs(b["y"] + b["height"] / 2 - (ours[0]["y"] + ours[0]["height"] / 2)) <= 1, b
    page.locator("#jp-main-statusbar").screenshot(path=str(ARTIFACTS / "status-bar.png"))

    # agent requests: approve one, stop the agents; an absent gate (404) hides the section
    request.locator(".jp-GenesisPanel-approve").click()
    request.wait_for(state="detached")
    agents.locator(".jp-GenesisPanel-stop").click()
    page.wait_for_function(
        "() => document.querySelector('.jp-GenesisPanel-agentNote').textContent"
        ".includes('3 jobs cancelled')"
    )
    note = agents.locator(".jp-GenesisPanel-agentNote").inner_text()
    assert gate.posts == ["req-1/approve", "stop"] and "2 tokens revoked" in note
    page.unroute("**/genesis/agent/**")
    page.route("**/genesis/agent/**", lambda route: _fulfil(route, {"message": "no"}, 404))
    page.evaluate("window.jupyterapp.commands.execute('genesis:refresh')")
    agents.wait_for(state="hidden", timeout=10_000)
