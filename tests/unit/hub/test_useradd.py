"""``useradd`` as the hub calls it: a passwd file locked by another useradd is waited for."""

from __future__ import annotations

import stat

import pytest

from genesis_lab.errors import GenesisError
from genesis_lab.hub import accounts


def fake_useradd(tmp_path, *, locked_times: int, final: str = "exit 0"):
    """A stand-in for /usr/sbin/useradd that reports the lock ``locked_times`` times."""
    calls = tmp_path / "calls"
    script = tmp_path / "useradd"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {calls}
n=$(wc -l < {calls})
if [ "$n" -le {locked_times} ]; then
  echo "useradd: cannot lock /etc/passwd; try again later." >&2
  exit 1
fi
{final}
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, calls


def test_a_locked_passwd_file_is_waited_for(tmp_path, monkeypatch):
    script, calls = fake_useradd(tmp_path, locked_times=3)
    monkeypatch.setattr(accounts, "USERADD", str(script))
    accounts.useradd(["--create-home", "ada"])
    assert calls.read_text().splitlines() == ["--create-home ada"] * 4


def test_other_failures_and_a_lock_that_stays_are_reported(tmp_path, monkeypatch):
    script, calls = fake_useradd(tmp_path, locked_times=0, final="echo 'bad name' >&2; exit 3")
    monkeypatch.setattr(accounts, "USERADD", str(script))
    with pytest.raises(GenesisError, match=r"useradd ada failed \(exit 3\): bad name"):
        accounts.useradd(["ada"])
    assert len(calls.read_text().splitlines()) == 1
    (tmp_path / "stuck").mkdir()
    script, calls = fake_useradd(tmp_path / "stuck", locked_times=99)
    monkeypatch.setattr(accounts, "USERADD", str(script))
    with pytest.raises(GenesisError, match="cannot lock /etc/passwd"):
        accounts.useradd(["ada"], attempts=3)
    assert len(calls.read_text().splitlines()) == 3
