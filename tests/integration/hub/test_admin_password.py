"""``genesis-lab admin reset-password``: the first admin gets a new one-time password while the
hub runs; the old one stops working."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "genesis-lab")


def test_reset_password_gives_the_first_admin_a_new_one_time_password(hub):
    old = hub.admin_password
    done = subprocess.run([CLI, "admin", "reset-password"], env=hub.env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = re.search(r"one-time password: (\S+)", done.stdout).group(1)
    assert new != old and len(new) >= 16
    assert "jupyterhub-hub-login" in hub.login("admin", new).cookies
    assert "jupyterhub-hub-login" not in hub.login("admin", old).cookies
    hub.admin_password = new
    db = (hub.base / "home" / "state" / "hub" / "jupyterhub.sqlite").read_bytes()
    assert new.encode() not in db  # only the hash is stored


def test_reset_password_refuses_a_user_who_is_no_admin(hub):
    done = subprocess.run([CLI, "admin", "reset-password", "mallory"], env=hub.env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1
    assert "user='mallory' is not in hub.admin_users (admin)" in done.stderr
