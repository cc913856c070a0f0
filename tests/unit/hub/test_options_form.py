"""The session form as rendered: one label per allocation, its remaining budget from the site's
usage ledger, Bootstrap 5 controls, and HTML5 constraints that accept what the server accepts."""

from __future__ import annotations

import re
import time

import pytest
from bs4 import BeautifulSoup

from genesis_lab.compute.allocations import Allocation, check_allocation
from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.errors import AllocationError
from genesis_lab.hub.options import MEMORY_PATTERN, WALLTIME_PATTERN, parse_request, render_form

DEFAULTS = {"cores": "1", "memory": "2GB", "walltime": "01:00:00"}

MINE = [
    Allocation(id="fusion", account="fes", scheduler="slurm", queue="debug", cores=8,
               memory="16GB", walltime="04:00:00", budget_core_hours=10,
               description="Fusion energy: plasma   campaigns"),
    Allocation(id="local", scheduler="local", cores=2, description="local"),
    Allocation(id="laptop", scheduler="local", cores=1),
    Allocation(id="spent", scheduler="local", budget_core_hours=5, description="Old project"),
]  # fmt: skip

# (allocation, cores, seconds): charged through the site ledger the hub's budget check reads
CHARGES = [("fusion", 4, 5400), ("fusion", 1, 1800), ("spent", 2, 9000), ("laptop", 3, 1234),
           ("elsewhere", 8, 36000)]  # fmt: skip


@pytest.fixture
def charged():
    ledger = get_ledger()
    for n, (allocation, cores, seconds) in enumerate(CHARGES):
        ledger.record(UsageRecord.from_times(allocation=allocation, user=f"u{n}", kind="cluster",
                      ref=str(n), cores=cores, start=1000, end=1000 + seconds,
                      source="worker-lifetime"))  # fmt: skip
    return {a.id: sum(c * s / 3600 for al, c, s in CHARGES if al == a.id) for a in MINE}


def soup(allocations=MINE, **kw) -> BeautifulSoup:
    return BeautifulSoup(render_form(allocations, DEFAULTS, **kw), "html.parser")


def numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def test_each_allocation_has_one_label_that_does_not_repeat_itself():
    labels = {o["value"]: o.get_text() for o in soup().select("#genesis-allocation option")}
    assert labels["fusion"] == "fusion — Fusion energy: plasma campaigns"
    assert labels["local"] == "local"  # a description equal to the id is not said twice
    assert labels["laptop"] == "laptop"
    for text in labels.values():
        assert not re.fullmatch(r"(.+) — \1( \(budget spent\))?", text), text


def test_balance_is_what_the_site_ledger_leaves_of_the_budget(charged):
    page = soup()
    for a in MINE:
        card = page.select_one(f'.genesis-allocation-details[data-allocation="{a.id}"]')
        balance = card.select_one(".genesis-balance").get_text(" ", strip=True)
        used = charged[a.id]
        if a.budget_core_hours is None:
            assert balance.startswith("No budget set"), balance
            assert numbers(balance) == [round(used, 2)]
        else:
            left = max(a.budget_core_hours - used, 0)
            assert numbers(balance) == [round(left, 2), a.budget_core_hours, round(used, 2)]
        # the form calls spent exactly what the hub's own check refuses as spent
        try:
            check_allocation(a, "anyone")
            refused = False
        except AllocationError as exc:
            refused = "is spent" in str(exc)
        option = page.select_one(f'option[value="{a.id}"]')
        assert (option["data-spent"] == "true") == refused == balance.startswith("Budget spent")
        assert option.get_text().endswith("(budget spent)") == refused
    assert charged["spent"] >= 5 > 0 < charged["fusion"] < 10  # both cases were exercised


def test_description_and_limits_show_with_the_chosen_allocation_only(charged):
    page = soup(chosen="fusion")
    cards = page.select(".genesis-allocation-details")
    assert [c["data-allocation"] for c in cards if not c.has_attr("hidden")] == ["fusion"]
    fusion = cards[0].get_text(" ", strip=True)
    assert "Fusion energy: plasma campaigns" in fusion and "queue debug" in fusion
    assert "cores ≤ 8" in fusion and "memory ≤ 16GB" in fusion and "walltime ≤ 04:00:00" in fusion
    cores = page.select_one("#genesis-cores")
    assert cores["max"] == "8" and cores["min"] == "1"
    limits = {s["data-genesis-limit"]: s.get_text() for s in page.select("[data-genesis-limit]")}
    assert limits == {"cores": "8", "memory": "16GB", "walltime": "04:00:00"}
    option = page.select_one('option[value="fusion"]')
    assert option.has_attr("selected")
    assert int(option["data-memory-bytes"]) == 16 * 10**9
    assert int(option["data-walltime-seconds"]) == 4 * 3600


def test_a_spent_allocation_is_not_proposed_first(charged):
    order = [MINE[3], MINE[0]]
    chosen = soup(order).select("#genesis-allocation option[selected]")
    assert [o["value"] for o in chosen] == ["fusion"]


def test_controls_are_bootstrap_5_with_a_label_and_help_each():
    page = soup()
    assert "form-select" in page.select_one("select#genesis-allocation")["class"]
    groups = page.select("#genesis-session-form > div")
    assert len(groups) == 4
    for group in groups:
        assert "mb-3" in group["class"]
        label = group.select_one("label")
        field = group.select_one(f"#{label['for']}")
        assert "form-label" in label["class"] and field.has_attr("required")
        described = field["aria-describedby"].split()
        for ident in described:
            assert page.select_one(f"#{ident}") is not None, ident
        assert any(page.select_one(f"#{i}").get_text(strip=True) for i in described)


SIZES = ["2GB", "512MiB", " 4 gb ", "1.5G", "100", "3TiB", "7b", "lots", "2 GBs", "-1GB", "1e3",
         "GB"]  # fmt: skip
WALLTIMES = ["01:00:00", "1:30", "2-00:00:00", "100:00:00", " 00:30:00 ", "1:60", "24:00",
             "1-02:00", "01:00:0", "soon", "1:2:3", "999:59:59"]  # fmt: skip


@pytest.mark.parametrize("value", SIZES)
def test_memory_pattern_accepts_what_the_server_parses(value):
    page = soup()
    pattern = page.select_one("#genesis-memory")["pattern"]
    assert pattern == MEMORY_PATTERN
    try:
        parse_request({"allocation": "a", "memory": value}, DEFAULTS)
        server = True
    except AllocationError:
        server = False
    assert bool(re.fullmatch(pattern, value)) == server, value


@pytest.mark.parametrize("value", WALLTIMES)
def test_walltime_pattern_accepts_what_the_server_parses(value):
    pattern = soup().select_one("#genesis-walltime")["pattern"]
    assert pattern == WALLTIME_PATTERN
    try:
        parse_request({"allocation": "a", "walltime": value}, DEFAULTS)
        server = True
    except AllocationError:
        server = False
    assert bool(re.fullmatch(pattern, value)) == server, value


def test_text_from_the_site_file_is_escaped():
    evil = Allocation(id="x", scheduler="local", description='<img src=x onerror="alert(1)">')
    html = render_form([evil], {**DEFAULTS, "memory": '"><script>'})
    assert "<img" not in html and "<script>" not in html
    assert BeautifulSoup(html, "html.parser").select_one("#genesis-memory")["value"] == '"><script>'


def test_the_balance_mentions_running_jobs_and_spent_stays_on_charged_usage(
    charged, tmp_path, monkeypatch
):
    from fixtures.squeue import Job, install_squeue

    now = int(time.time())
    # (job, counts for): fusion's account and partition; another account's job is not asked for
    table = [(Job("31", "dask-worker", "u1", "fes", "debug", "RUNNING", 2, now - 9000), "fusion"),
             (Job("32", "genesis-session-u2", "u2", "fes", "debug", "RUNNING", 1, now - 1800),
              "fusion"),
             (Job("33", "dask-worker", "u1", "fes", "debug", "PENDING", 4, None), None),
             (Job("34", "dask-worker", "u3", "zzz", "debug", "RUNNING", 8, now - 9000), None)]  # fmt: skip
    install_squeue(tmp_path / "bin", monkeypatch, [j for j, _ in table])
    quiet = Allocation(id="quiet", account="q1", scheduler="slurm", budget_core_hours=5)
    page = soup([MINE[0], quiet, MINE[2]])
    accrued = sum(j.cores * (time.time() - j.start) / 3600 for j, a in table if a == "fusion")
    text = {c["data-allocation"]: c.select_one(".genesis-balance").get_text(" ", strip=True)
            for c in page.select(".genesis-allocation-details")}  # fmt: skip
    left, budget, used, running = numbers(text["fusion"])
    assert (left, budget, used) == (
        round(10 - charged["fusion"], 2),
        10,
        round(charged["fusion"], 2),
    )
    assert running == pytest.approx(accrued, abs=0.011)
    assert "running, not yet charged" in text["fusion"]
    # over its budget only with what is running: not spent, as the hub's own check says
    assert charged["fusion"] < 10 < charged["fusion"] + accrued
    check_allocation(MINE[0], "anyone")
    assert page.select_one('option[value="fusion"]')["data-spent"] == "false"
    assert not text["fusion"].startswith("Budget spent")
    # nothing running: not mentioned
    assert "running" not in text["quiet"] and "running" not in text["laptop"]
