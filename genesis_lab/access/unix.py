"""Which Unix accounts are people's: work of a user never runs as root or a system account.

People's accounts have uids from ``UID_MIN`` to ``UID_MAX`` of ``/etc/login.defs`` (1000 to 60000
on Debian); below are root and system accounts (daemon, postgres, the genesis service's own),
above are ``nobody`` and other reserved ids.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["COMMENT_PREFIX", "hub_user", "is_system_account", "people_uids"]

COMMENT_PREFIX = "genesis-lab user "
"""The GECOS comment of a hub user's own Unix account (``jupyter-<name>``) starts with this, then
the hub name: how the hub and the service map an account back to its hub user."""

LOGIN_DEFS = Path("/etc/login.defs")


def people_uids(login_defs: Path = LOGIN_DEFS) -> range:
    """The uids of people's accounts (``UID_MIN``..``UID_MAX``, default 1000..60000).

    >>> r = people_uids(Path("/nonexistent")); (r.start, r.stop - 1)
    (1000, 60000)
    """
    found = {"UID_MIN": 1000, "UID_MAX": 60000}
    try:
        lines = login_defs.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] in found and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return range(found["UID_MIN"], found["UID_MAX"] + 1)


def is_system_account(uid: int) -> bool:
    """Whether ``uid`` is root, a system account or a reserved id, which no user's work runs as.

    >>> is_system_account(0), is_system_account(65534), is_system_account(people_uids().start)
    (True, True, False)
    """
    return uid not in people_uids()


def hub_user(unix_name: str) -> str:
    """The hub user a Unix account runs jobs for: the name in the comment of an account the hub
    created (``jupyter-<name>``), else the Unix name itself (SLURM sessions run as the hub
    user's own name).

    >>> hub_user("no-such-account-here")
    'no-such-account-here'
    """
    import pwd

    try:
        comment = pwd.getpwnam(unix_name).pw_gecos
    except KeyError:
        return unix_name
    return comment[len(COMMENT_PREFIX) :] if comment.startswith(COMMENT_PREFIX) else unix_name
