"""The report's numbers, from records written through the platform's real APIs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genesis_lab.access.audit import audit_log
from genesis_lab.compute.ledger import UsageRecord, get_ledger
from genesis_lab.errors import GenesisError
from genesis_lab.pipelines.store import ResultsStore
from genesis_lab.report import collect, render
from genesis_lab.settings import get_settings, reset_settings
from genesis_lab.training import courses
from genesis_lab.training.results import course_results_root, merge_result

T = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).timestamp()
HOUR = 3600.0


@pytest.fixture
def site(tmp_path, monkeypatch, demo_challenge):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"allocations": [
        {"id": "nuclear-2026", "scheduler": "slurm", "account": "nuc", "budget_core_hours": 100},
        {"id": "training", "scheduler": "local"},
    ]}))  # fmt: skip
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return site


def _charge(alloc, user, kind, ref, cores, hours, start=T):
    get_ledger().record(UsageRecord.from_times(
        allocation=alloc, user=user, kind=kind, ref=ref, cores=cores, start=start,
        end=start + hours * HOUR, source="job-lifetime"))  # fmt: skip


def _store_run(challenge, owner, total, state="completed", start="2026-05-01T10:00:00+00:00"):
    store = ResultsStore(get_settings().results_root)
    run_id = store.new_run_id(f"{owner}{total}".ljust(8, "0"))
    work = store.begin(challenge, run_id)
    status = {"challenge": challenge, "status": state, "cache_key": run_id, "owner": owner,
              "metrics": {"total": total} if state == "completed" else {},
              "parameters": {"n": total}, "start": start, "end": start}  # fmt: skip
    return store.commit(work, status)


def test_usage_per_allocation_and_kind_within_the_period(site):
    _charge("nuclear-2026", "alice", "session", "s1", 2, 1.5)  # 3 core-h
    _charge("nuclear-2026", "alice", "cluster", "j7", 4, 2.0)  # 8
    _charge("nuclear-2026", "bob", "pipeline", "demo", 1, 0.5)  # 0.5
    _charge("training", "carol", "session", "s2", 1, 1.0)  # 1
    _charge("nuclear-2026", "dave", "cluster", "old", 8, 10.0, start=T - 400 * 86400)  # 2024
    data = json.loads(render(collect("2026-01-01", "2026-12-31"), "json"))
    integ = data["integration"]
    assert integ["total_core_hours"] == pytest.approx(12.5)
    assert integ["core_hours_by_kind"] == {"session": 4.0, "cluster": 8.0, "pipeline": 0.5}
    nuc = next(a for a in integ["allocations"] if a["id"] == "nuclear-2026")
    assert (nuc["core_hours"], nuc["session"], nuc["cluster"], nuc["pipeline"]) == (11.5, 3, 8, 0.5)
    assert (nuc["budget_core_hours"], nuc["users"], nuc["scheduler"]) == (100, 2, "slurm")
    eng = data["engagement"]
    assert eng["sessions"] == 2 and eng["session_users"] == ["alice", "carol"]
    assert eng["active_users"] == ["alice", "bob", "carol"]  # dave's charge is outside the period


def test_best_result_per_challenge_and_runs(site):
    _store_run("demo", "alice", 3.0)
    _store_run("demo", "bob", 45.0)
    _store_run("demo", "carol", 0, state="failed")
    _store_run("demo", "erin", 99.0, start="2025-12-31T23:59:00+00:00")  # before the period
    out = collect("2026-01-01", "2026-12-31").to_dict()["outcomes"]
    assert out["challenge_runs"] == 3
    assert out["runs_by_challenge"] == {"demo": {"completed": 2, "failed": 1}}
    best = out["best_by_challenge"]["demo"]
    assert (best["owner"], best["value"], best["metric"], best["goal"]) == (
        "bob", 45.0, "total", "maximize")  # fmt: skip


def test_audit_courses_and_engagement(site, tmp_path, monkeypatch, fake_hub):
    log = audit_log()
    for outcome in ("success", "success", "denied"):
        log.append(event_type="data-read", where="service", source="127.0.0.1",
                   outcome=outcome, identity="frank", dataset="x/y")  # fmt: skip
    courses.create_course("ml-101", allocation="training", cap_core_hours_per_learner=2)
    courses.enroll("ml-101", ["gina", "hal"])
    nb = tmp_path / "intro.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"genesis": {"exercises": ["a", "b"]}},
                              "nbformat": 4, "nbformat_minor": 5}))  # fmt: skip
    courses.assign("ml-101", [nb])
    # gina passes exercise a: the record the genesis service keeps for her check cell
    merge_result(course_results_root() / "ml-101" / "gina" / "intro.json", "intro", "a", True,
                 "", "gina")  # fmt: skip
    eng = collect("2026-01-01", "2026-12-31").to_dict()["engagement"]
    assert (eng["data_accesses"], eng["data_denials"]) == (2, 1)
    course = eng["courses"][0]
    assert (course["learners"], course["exercises_passed"], course["exercises_total"]) == (2, 1, 4)
    assert course["active_learners"] == ["gina"]
    assert "frank" in eng["active_users"] and "gina" in eng["active_users"]


def test_catalog_counts_and_organisations_from_the_hub_db(site):
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    db = get_settings().state_dir / "hub" / "jupyterhub.sqlite"
    db.parent.mkdir(parents=True)
    session = orm.new_session_factory(f"sqlite:///{db}")()
    UserInfo.metadata.create_all(session.get_bind())
    for name, email in (("ivy", "ivy@ornl.gov"), ("jon", "jon@ORNL.gov"), ("kim", None)):
        session.add(orm.User(name=name, last_activity=dt.datetime(2026, 6, 1)))
        session.add(UserInfo(username=name, password=b"x", is_authorized=True, email=email))
    session.commit()
    data = collect("2026-01-01", "2026-12-31").to_dict()
    assert data["partnerships"]["users_by_organisation"] == {"ornl.gov": 2}
    assert {"ivy", "jon", "kim"} <= set(data["engagement"]["active_users"])
    from genesis_lab.catalog import load_catalog

    cat = load_catalog(warn=False)
    platform = data["platform"]
    assert platform["catalog_total"] == len(cat)
    nuclear = platform["catalog_by_domain"]["nuclear-energy"]
    assert nuclear["dataset"] == len(cat.search(None, domain="nuclear-energy", kind="dataset"))
    assert sum(platform["catalog_by_marking"].values()) == len(cat)
    assert "demo" in platform["challenges"]


def test_bad_periods_and_formats_are_refused(site, tmp_path):
    with pytest.raises(GenesisError, match=r"from='2026-13-01' is not a date; use YYYY-MM-DD"):
        collect("2026-13-01", "2026-12-31")
    with pytest.raises(GenesisError, match="before from"):
        collect("2026-02-01", "2026-01-01")
    with pytest.raises(GenesisError, match=r"format='docx'.*allowed values: html, pdf, json"):
        render(collect("2026-01-01", "2026-01-02"), "docx")
    gl = str(Path(sys.executable).parent / "genesis-lab")
    out = subprocess.run([gl, "report", "--from", "2026-01-01", "--to", "2026-12-31",
                          "--format", "json", "-o", str(tmp_path / "r.json")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["start"] == "2026-01-01"
    bad = subprocess.run([gl, "report", "--from", "yesterday", "--to", "2026-12-31"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 1 and "from='yesterday' is not a date" in bad.stderr


def test_datasets_added_with_their_provenance(site):
    import numpy as np
    import xarray as xr

    from genesis_lab.data.register import save_dataset

    ds = xr.Dataset({"power": ("t", np.linspace(1, 2, 5), {"units": "W"})})
    save_dataset(ds, "nuclear-energy/step-response", title="Step response", description="A sweep.",
                 source="genesis_lab.simulators.nuclear_energy:PointKinetics",
                 derived_from=["nuclear-energy/point-kinetics"])  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    added = collect(today - dt.timedelta(days=1), today).to_dict()["outcomes"]["assets_added"]
    assert [(a["id"], a["kind"], a["source"], a["derived_from"]) for a in added] == [(
        "nuclear-energy/step-response", "dataset",
        "genesis_lab.simulators.nuclear_energy:PointKinetics", ["nuclear-energy/point-kinetics"],
    )]  # fmt: skip
    last_year = collect(today - dt.timedelta(days=400), today - dt.timedelta(days=370))
    assert last_year.outcomes.assets_added == []
