"""Who owns what on disk when the hub runs as root, set up before the hub starts.

* ``<home>``, ``<state>``: root, 0711 (enter, not list)
* ``<state>/hub`` (hub database, cookie secret, proxy token): root, 0700
* ``<state>/audit-witness`` (signed audit checkpoints, 0600; the witness's socket): root, 0711
* ``<state>/service``, ``<state>/audit``, the data root, the catalogs: the service account, 0700
* ``<home>/users`` (homes of the users' accounts, each 0700): root, 0711

Sessions run as accounts of their own, so nothing above is theirs to read. The data root and site
catalogs a site names outside ``<home>`` are not changed, only checked.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from genesis_lab.errors import SettingsError
from genesis_lab.hub.accounts import UnixAccount, ensure_service_account
from genesis_lab.hub.config import HubPlan

__all__ = ["LayoutProblem", "prepare_layout", "protected_paths", "unreachable_by_others"]


@dataclass(frozen=True)
class LayoutProblem:
    """A path other accounts could read, with the command that fixes it."""

    path: Path
    mode: int
    fix: str

    def __str__(self) -> str:
        return f"{self.path} is mode {self.mode:04o}, readable by other accounts: {self.fix}"


def unreachable_by_others(path: Path) -> list[Path]:
    """The folders on the way to ``path`` (itself included) that other accounts cannot enter.

    >>> unreachable_by_others(Path("/usr/bin/env"))
    []
    """
    blocked = []
    for part in [*reversed(path.parents), path]:
        try:
            mode = part.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            blocked.append(part)
    return blocked


def protected_paths(plan: HubPlan) -> list[Path]:
    """What only the service account (or root) may read: data, catalogs, audit log, its state."""
    s = plan.settings
    paths = [Path(s.data_root), Path(s.user_catalog_dir), Path(s.state_dir) / "audit"]
    paths += [Path(p) for p in s.catalog_paths]
    return [*paths, plan.service_home]


def _own(path: Path, account: UnixAccount | None, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if account is not None and path.stat().st_uid != account.uid:
        # first start as root over a folder made earlier: hand over everything inside too
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)
        os.chown(path, account.uid, account.gid)
    os.chmod(path, mode)


def _problem(path: Path, account: UnixAccount) -> LayoutProblem | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    loose = st.st_mode & 0o007 or (st.st_mode & 0o070 and st.st_gid != account.gid)
    if not loose:
        return None
    fix = f"chown -R {account.name}: {path} && chmod -R go-rwx {path}"
    return LayoutProblem(path, stat.S_IMODE(st.st_mode), fix)


def prepare_layout(plan: HubPlan) -> UnixAccount:
    """Create the service account and give every path its owner and mode (see the module doc).

    Raises :class:`SettingsError` when the interpreter is out of the accounts' reach, or when a
    protected path outside ``<home>`` is readable by other accounts and the site has not said
    (``service.data_protection: site``) that it protects the data another way.
    """
    python = Path(sys.executable)
    blocked = unreachable_by_others(python) + unreachable_by_others(python.resolve())
    if blocked:
        raise SettingsError(
            f"Sessions run as their users' own Unix accounts and cannot run {python}: "
            f"{blocked[0]} is mode {stat.S_IMODE(blocked[0].stat().st_mode):04o}. Put the "
            "genesis-lab checkout outside it (for example under /opt) and run make up there."
        )
    s = plan.settings
    home, state = Path(s.home), Path(s.state_dir)
    for path in (home, state):
        _own(path, None, 0o711)
    _own(plan.state_dir, None, 0o700)
    _own(Path(s.audit_witness_dir), None, 0o711)
    _own(plan.sessions_root, None, 0o711)
    account = ensure_service_account(plan.service_account, plan.service_home)
    problems = []
    for path in protected_paths(plan):
        if path == home or home in path.parents:
            _own(path, account, 0o700)
        elif (problem := _problem(path, account)) is not None:
            problems.append(problem)
    if problems and s.service.get("data_protection") != "site":
        raise SettingsError(
            "The genesis service will not start on data other accounts can read:\n  "
            + "\n  ".join(str(p) for p in problems)
            + "\n(or set service.data_protection: site in the site file if the site protects "
            "these paths another way, for example with ACLs)"
        )
    return account
