"""The server extension behind the side panel answers from the same catalog and settings."""

import json
import textwrap

import pytest
from tornado import web

from genesis_lab.settings import reset_settings
from genesis_lab.widgets.server import catalog_summary, open_challenge, session_status


@pytest.fixture
def challenge_folder(tmp_path, monkeypatch):
    folder = tmp_path / "challenges" / "demo-one"
    folder.mkdir(parents=True)
    (folder / "challenge.yaml").write_text(
        textwrap.dedent(
            """
            id: demo-one
            domain: biotechnology
            title: Demo one
            question: Does it open?
            """
        )
    )
    (folder / "demo-one.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    monkeypatch.setenv("GENESIS_CHALLENGE_PATHS", str(tmp_path / "challenges"))
    reset_settings()
    return folder


def test_summary_lists_challenges_with_their_id(challenge_folder):
    [rec] = [r for r in catalog_summary() if r["kind"] == "challenge"]
    assert rec == {
        "id": "biotechnology/demo-one",
        "kind": "challenge",
        "domain": "biotechnology",
        "title": "Demo one",
        "marking": "public",
        "keywords": "biotechnology",
        "challenge": "demo-one",
        "code": "",
    }


def test_summary_carries_the_code_each_row_inserts():
    from genesis_lab.catalog import get_catalog

    records = {r["id"]: r for r in catalog_summary()}
    calls = {"dataset": "ds = gl.open_dataset", "model": "model = gl.load_model",
             "simulator": "sim = gl.get_simulator"}  # fmt: skip
    for entry in get_catalog():
        rec = records[entry.id]
        assert (rec["kind"], rec["title"], rec["marking"]) == (
            entry.kind, entry.title, entry.marking)  # fmt: skip
        if entry.kind == "challenge":
            continue
        lines = rec["code"].splitlines()
        assert lines[0] == "import genesis_lab as gl"
        assert lines[1] == f'{calls[entry.kind]}("{entry.id}")', rec["code"]
        compile(rec["code"], entry.id, "exec")


def test_open_copies_once_and_keeps_user_edits(challenge_folder, tmp_path):
    root = tmp_path / "home"
    root.mkdir()
    rel = open_challenge("demo-one", root)
    assert rel == "challenges/demo-one/demo-one.ipynb"
    (root / rel).write_text("my edits")
    assert open_challenge("demo-one", root) == rel
    assert (root / rel).read_text() == "my edits"


def test_open_unknown_challenge_is_404(challenge_folder, tmp_path):
    with pytest.raises(web.HTTPError) as info:
        open_challenge("nope", tmp_path)
    assert info.value.status_code == 404


def test_status_without_allocation_is_local():
    status = session_status()
    assert status["allocation"] is None
    assert status["scheduler"] == "local"
    assert status["used_core_hours"] == 0.0
