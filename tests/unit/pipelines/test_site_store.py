"""The site's results store: shared sticky challenge folders (as root) and per-account cache keys."""

from __future__ import annotations

import os
import stat

import pytest

from genesis_lab.errors import PipelineError
from genesis_lab.pipelines.store import ResultsStore, prepare_site_store


def test_root_prepares_a_sticky_shared_folder_per_challenge(tmp_path):
    if os.geteuid() != 0:
        assert prepare_site_store(tmp_path / "r", ["demo"]) == []
        return
    root = tmp_path / "results"
    (root / "taken").mkdir(parents=True)
    os.chown(root / "taken", 65534, 65534)  # made first by another account, mode 0755
    changed = prepare_site_store(root, ["demo", "taken"])
    assert set(changed) >= {root / "demo", root / "taken"}
    for name in ("demo", "taken"):
        st = (root / name).stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o1777)
    assert prepare_site_store(root, ["demo", "taken"]) == []  # nothing to fix a second time


def test_a_store_that_cannot_be_written_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path / "results")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(tmp_path), "mkdir", refuse)
    with pytest.raises(PipelineError) as caught:
        store.begin("demo", "run1")
    folder = tmp_path / "results" / "demo"
    assert f"Cannot write run results into {folder}" in str(caught.value)
    assert f"chmod 1777 {folder}" in str(caught.value)


def test_cache_keys_are_kept_per_account(tmp_path):
    store = ResultsStore(tmp_path, readable="owner")
    work = store.begin("demo", "r1")
    record = store.commit(work, {"challenge": "demo", "status": "completed", "cache_key": "k1"})
    assert (tmp_path / "demo" / ".keys" / str(os.getuid()) / "k1").is_file()
    assert store.lookup("demo", "k1").run_id == record.run_id
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o700
