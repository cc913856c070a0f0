"""``genesis-lab doctor --security``: what a member's account can reach, tried as that account.

Each check runs ``runuser -u MEMBER -- …`` (so it needs root) against a path only the service
or root may read, or a path nobody but root may write, and fails naming the path and the fix.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from genesis_lab.access.audit import default_log_path
from genesis_lab.access.checkpoints import BOOK_NAME
from genesis_lab.compute.doctor import Check
from genesis_lab.hub.accounts import lookup_account
from genesis_lab.hub.config import HubPlan
from genesis_lab.hub.layout import protected_paths
from genesis_lab.settings import REPO_DIR

__all__ = ["default_member", "security_checks"]

RUNUSER = "/usr/sbin/runuser"


def default_member(plan: HubPlan) -> str | None:
    """A Unix account to try as: a named member of an allocation, or a user account made by the
    hub (``jupyter-…``)."""
    from genesis_lab.compute.allocations import get_allocations

    for allocation in get_allocations().values():
        for member in allocation.members:
            if member != "*" and lookup_account(member) is not None:
                return member
    homes = Path(plan.sessions_root)
    if homes.is_dir():
        for home in sorted(homes.iterdir()):
            if home.name.startswith(plan.account_prefix) and lookup_account(home.name):
                return home.name
    return None


def _as(member: str, argv: list[str]) -> bool:
    done = subprocess.run([RUNUSER, "-u", member, "--", *argv], capture_output=True, timeout=30,
                          check=False)  # fmt: skip
    return done.returncode == 0


def _readable(member: str, path: Path) -> bool:
    if path.is_dir():
        return _as(member, ["/bin/ls", "-A", str(path)])
    return _as(member, ["/usr/bin/head", "-c", "1", str(path)])


def _secret_paths(plan: HubPlan) -> list[tuple[Path, str]]:
    s = plan.settings
    hub = plan.state_dir
    paths = [
        (hub, "root"),
        (Path(plan.cookie_secret_file), "root"),
        (plan.proxy_token_file, "root"),
    ]
    if plan.db_url.startswith("sqlite:///"):
        paths.append((Path(plan.db_url.removeprefix("sqlite:///")), "root"))
    witness = Path(s.audit_witness_dir)
    paths += [(witness, "root"), (witness / BOOK_NAME, "root")]
    paths += [(p, plan.service_account) for p in protected_paths(plan)]
    paths.append((default_log_path(s), plan.service_account))
    return [(p, owner) for p, owner in paths if p.exists()]


def witness_dir(plan: HubPlan, path: Path) -> bool:
    """Whether ``path`` is the audit witness's folder (0711: the service reaches its socket)."""
    return Path(plan.settings.audit_witness_dir) == path


def security_checks(plan: HubPlan, member: str | None = None) -> list[Check]:
    """Try, as ``member``, to read every protected path and to write the code and the venv."""
    import os
    import sys

    if os.geteuid() != 0:
        return [Check("security", False, "the checks run as a member account through runuser",
                      "run genesis-lab doctor --security as root")]  # fmt: skip
    member = member or default_member(plan)
    if member is None or lookup_account(member) is None:
        return [Check("security", False, f"no member account to try as ({member or 'none'})",
                      "name one: genesis-lab doctor --security --as USER")]  # fmt: skip
    checks = []
    for path, owner in _secret_paths(plan):
        mode = (
            "0600"
            if not path.is_dir()
            else "0711"
            if owner == "root" and witness_dir(plan, path)
            else "0700"
        )
        if _readable(member, path):
            fix = f"chown {owner}: {path} && chmod {mode} {path}"
            checks.append(Check(f"{member} cannot read {path}", False, "readable", fix))
        else:
            checks.append(Check(f"{member} cannot read {path}", True, "refused"))
    for path in (REPO_DIR / "genesis_lab", Path(sys.prefix), Path(sys.prefix) / "bin"):
        if _as(member, ["/usr/bin/test", "-w", str(path)]):
            fix = f"chown -R root: {path} && chmod -R go-w {path}"
            checks.append(Check(f"{member} cannot write {path}", False, "writable", fix))
        else:
            checks.append(Check(f"{member} cannot write {path}", True, "refused"))
    return checks
