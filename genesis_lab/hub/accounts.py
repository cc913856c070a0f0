"""Unix accounts for hub users and for the genesis service, created when the hub runs as root.

Every approved hub user gets a system account of their own (``jupyter-<name>``, as The Littlest
JupyterHub names them) with a private home; sessions run as that account, never as root.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from genesis_lab.access.unix import COMMENT_PREFIX
from genesis_lab.errors import GenesisError

__all__ = [
    "DEFAULT_PREFIX",
    "UnixAccount",
    "account_name",
    "can_switch_users",
    "ensure_account",
    "ensure_service_account",
    "lookup_account",
    "useradd",
]

DEFAULT_PREFIX = "jupyter-"
NAME_MAX = 32  # useradd's limit on Debian
USERADD = "/usr/sbin/useradd"


class AccountError(GenesisError):
    """A Unix account could not be created or belongs to someone else."""


@dataclass(frozen=True)
class UnixAccount:
    """A Unix account: its name, ids and home folder."""

    name: str
    uid: int
    gid: int
    home: Path

    @classmethod
    def from_pwd(cls, entry: pwd.struct_passwd) -> UnixAccount:
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def can_switch_users() -> bool:
    """Whether this process may create accounts and start processes as them (it runs as root).

    >>> isinstance(can_switch_users(), bool)
    True
    """
    return os.geteuid() == 0


def account_name(hub_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Unix account of hub user ``hub_name``: ``prefix`` + the name, made safe.

    A name that had to be changed (case, characters Unix names do not allow, length) gets a short
    hash of the original, so two hub names never share an account.

    >>> account_name("alice")
    'jupyter-alice'
    >>> account_name("Alice.Smith@lab.gov")
    'jupyter-alice-smith-lab-ea960aa'
    """
    safe = re.sub(r"[^a-z0-9_-]+", "-", hub_name.lower()).strip("-") or "user"
    name = prefix + safe
    if safe == hub_name and len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(hub_name.encode()).hexdigest()[:7]
    return f"{name[: NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"


def lookup_account(name: str) -> UnixAccount | None:
    """The account called ``name``, or None.

    >>> lookup_account("root").uid
    0
    """
    try:
        return UnixAccount.from_pwd(pwd.getpwnam(name))
    except KeyError:
        return None


def useradd(args: list[str], *, attempts: int = 20) -> None:
    """Run ``useradd`` with ``args``; an account that appeared meanwhile (exit 9) is fine, and
    a passwd or group file another ``useradd`` holds locked (two spawns or approvals at once) is
    waited for, not reported.
    """
    for attempt in range(attempts):
        done = subprocess.run([USERADD, *args], capture_output=True, text=True, check=False)
        if done.returncode in (0, 9):
            return
        if "lock" not in done.stderr or attempt == attempts - 1:
            raise AccountError(
                f"useradd {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()}"
            )
        time.sleep(0.05 * (attempt + 1))


def _private_home(account: UnixAccount) -> None:
    account.home.mkdir(parents=True, exist_ok=True)
    os.chown(account.home, account.uid, account.gid)
    os.chmod(account.home, 0o700)


def ensure_account(hub_name: str, *, home_root: Path, prefix: str = DEFAULT_PREFIX) -> UnixAccount:
    """The account of hub user ``hub_name``, created on first use with a private (0700) home
    under ``home_root``. Refuses an existing account that was made for another hub user.

    Needs root. ``genesis-lab`` calls it at a user's approval and before each local session.
    """
    name = account_name(hub_name, prefix)
    comment = f"{COMMENT_PREFIX}{hub_name}"
    account = lookup_account(name)
    if account is None:
        home_root.mkdir(parents=True, exist_ok=True)
        useradd(
            ["--home-dir", str(home_root / name), "--create-home", "--shell", "/bin/bash",
             "--user-group", "--no-log-init", "--comment", comment, name]
        )  # fmt: skip
        account = lookup_account(name)
        if account is None:
            raise AccountError(f"useradd reported success but account {name!r} does not exist")
    owner = pwd.getpwnam(name).pw_gecos
    if owner != comment:
        raise AccountError(
            f"The Unix account {name!r} exists but is not genesis-lab's account of hub user "
            f"{hub_name!r} (its comment is {owner!r}); remove it or choose another "
            "hub.account_prefix in the site file."
        )
    _private_home(account)
    return account


def ensure_service_account(name: str, home: Path) -> UnixAccount:
    """The system account the genesis service runs as (no login shell), created if missing."""
    account = lookup_account(name)
    if account is None:
        useradd(
            ["--system", "--home-dir", str(home), "--no-create-home", "--shell",
             "/usr/sbin/nologin", "--user-group", "--comment", "genesis-lab service", name]
        )  # fmt: skip
        account = lookup_account(name)
        if account is None:
            raise AccountError(f"useradd reported success but account {name!r} does not exist")
    return account
