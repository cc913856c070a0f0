"""``genesis-lab doctor --security`` tries, as a member's account, to read what only the service
and root may read; the launcher refuses a data root other accounts can read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from realparts import is_root, require

from genesis_lab.errors import SettingsError

CLI = str(Path(sys.executable).parent / "genesis-lab")


def _doctor(hub, member: str) -> tuple[int, list[dict]]:
    done = subprocess.run([CLI, "doctor", "--security", "--as", member, "--json"], env=hub.env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    return done.returncode, json.loads(done.stdout)


def test_a_member_account_reaches_nothing_protected_and_a_loose_mode_is_named(hub):
    require(is_root(), "root (runuser)", "run the tests as root")
    from genesis_lab.hub.accounts import ensure_account

    name = hub.new_user()
    member = ensure_account(name, home_root=hub.base / "home" / "users").name
    code, checks = _doctor(hub, member)
    assert code == 0, [c for c in checks if not c["ok"]]
    names = " ".join(c["name"] for c in checks)
    data_root = hub.base / "home" / "data"
    for path in (data_root, hub.base / "home" / "state" / "hub", hub.base / "home" / "catalog"):
        assert f"cannot read {path}" in names
    assert "cannot write" in names

    os.chmod(data_root, 0o755)
    try:
        code, checks = _doctor(hub, member)
    finally:
        os.chmod(data_root, 0o700)
    failed = [c for c in checks if not c["ok"]]
    assert code == 1 and [c["name"] for c in failed] == [f"{member} cannot read {data_root}"]
    assert failed[0]["fix"] == f"chown genesis: {data_root} && chmod 0700 {data_root}"


def test_the_launcher_refuses_a_site_data_root_other_accounts_can_read(monkeypatch, tmp_path):
    require(is_root(), "root (the service account)", "run the tests as root")
    from genesis_lab.hub.config import hub_plan
    from genesis_lab.hub.layout import prepare_layout
    from genesis_lab.settings import reset_settings

    outside = Path("/tmp") / f"genesis-site-data-{uuid.uuid4().hex[:6]}"
    outside.mkdir(mode=0o755)
    os.chmod(outside, 0o755)
    monkeypatch.setenv("GENESIS_HOME", str(Path("/tmp") / f"genesis-home-{uuid.uuid4().hex[:6]}"))
    monkeypatch.setenv("GENESIS_DATA_ROOT", str(outside))
    reset_settings()
    try:
        with pytest.raises(SettingsError) as err:
            prepare_layout(hub_plan())
        assert f"{outside} is mode 0755, readable by other accounts" in str(err.value)
        assert f"chown -R genesis: {outside} && chmod -R go-rwx {outside}" in str(err.value)
        os.chmod(outside, 0o700)
        os.chown(outside, *[getattr(__import__("pwd").getpwnam("genesis"), a)
                            for a in ("pw_uid", "pw_gid")])  # fmt: skip
        prepare_layout(hub_plan())  # protected: accepted
    finally:
        os.rmdir(outside)
