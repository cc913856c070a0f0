"""Passwords the platform issues: the first admin's at ``genesis-lab up``, those of
``genesis-lab admin reset-password`` and those an admin sets for another user. Each is one-time: a
mark in the hub's database says so until its holder chooses their own, it expires unused after the
site's ``hub.one_time_password_hours``, and each issue, sign-in with one and change is audited.

The mark (table ``genesis_one_time_passwords``) holds a sha256 of the bcrypt hash that was issued,
never the password: it counts only while the user's stored hash is still that one, so any change of
the password (their own, an admin's) ends it, even one made by a path that forgot to clear it.
Account events go to a hash-chained audit log of the hub's own
(``<state>/hub/account-audit.jsonl``, :class:`genesis_lab.access.audit.AuditLog`): the service's
log has a single writer, the service, which refuses records it did not write itself.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from genesis_lab.errors import SettingsError
from genesis_lab.hub.config import HubPlan

__all__ = [
    "ISSUED_AT_RESET",
    "ISSUED_AT_UP",
    "ONE_TIME",
    "ONE_TIME_MESSAGE",
    "account_audit_path",
    "audit_account",
    "clear_one_time",
    "expired_one_time",
    "fingerprint",
    "holds_one_time",
    "issued_by_admin",
    "mark_one_time",
    "reset_password",
]

ONE_TIME_MESSAGE = "Choose your own password: the one you signed in with was issued once."
"""What the change-password page says when the platform sent the user there."""

ISSUED_AT_UP = "genesis-lab up"
ISSUED_AT_RESET = "genesis-lab admin reset-password"


def issued_by_admin(admin: str) -> str:
    """The mark's ``issued_by`` for a password ``admin`` set at ``/hub/change-password/<user>``.

    >>> issued_by_admin("root-admin")
    'admin root-admin'
    """
    return f"admin {admin}"


ONE_TIME = sa.Table(
    "genesis_one_time_passwords",
    sa.MetaData(),
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("password_sha256", sa.String(64), nullable=False),
    sa.Column("issued_by", sa.String(64), nullable=False),
    sa.Column("issued_at", sa.DateTime, nullable=False),
)
"""Users whose password the platform issued; its own metadata, so nothing is added to
JupyterHub's tables on import."""


def fingerprint(hashed: bytes | str) -> str:
    """The sha256 of a stored bcrypt hash, the mark's reference to it.

    >>> fingerprint(b"$2b$12$abc") == fingerprint("$2b$12$abc")
    True
    """
    raw = hashed.encode() if isinstance(hashed, str) else bytes(hashed)
    return hashlib.sha256(raw).hexdigest()


def _users_info() -> sa.Table:
    from nativeauthenticator.orm import UserInfo

    return UserInfo.__table__


def ensure_tables(bind: Any) -> None:
    """Create nativeauthenticator's user table and the mark's table where missing."""
    for table in (_users_info(), ONE_TIME):
        table.create(bind, checkfirst=True)


def mark_one_time(db: Any, username: str, hashed: bytes | str, issued_by: str) -> None:
    """Mark ``username``'s password (stored as ``hashed``) as issued by the platform. ``db`` is a
    connection or session; the caller commits.

    >>> engine = sa.create_engine("sqlite://")
    >>> ensure_tables(engine)
    >>> with engine.begin() as conn:
    ...     _ = conn.execute(_users_info().insert().values(username="ada", password=b"h1"))
    ...     mark_one_time(conn, "ada", b"h1", ISSUED_AT_RESET)
    ...     first = holds_one_time(conn, "ada")
    ...     _ = conn.execute(_users_info().update().values(password=b"h2"))
    ...     first, holds_one_time(conn, "ada")
    (True, False)
    """
    db.execute(ONE_TIME.delete().where(ONE_TIME.c.username == username))
    db.execute(ONE_TIME.insert().values(
        username=username, password_sha256=fingerprint(hashed), issued_by=issued_by,
        issued_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    ))  # fmt: skip


def _issued_at(db: Any, username: str) -> dt.datetime | None:
    """When the password ``username`` still holds was issued (UTC, naive), None when they chose
    their own or never had an issued one (read from the database each time: ``reset-password``
    writes it from another process)."""
    users = _users_info()
    row = db.execute(
        sa.select(ONE_TIME.c.password_sha256, users.c.password, ONE_TIME.c.issued_at)
        .join(users, users.c.username == ONE_TIME.c.username)
        .where(ONE_TIME.c.username == username)
    ).first()
    held = row is not None and row[1] is not None and fingerprint(row[1]) == row[0]
    return row[2] if held else None


def holds_one_time(db: Any, username: str) -> bool:
    """Whether ``username`` still signs in with the password the platform issued them."""
    return _issued_at(db, username) is not None


def expired_one_time(
    db: Any, username: str, hours: float, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When ``username``'s issued password was issued, if it is still theirs and older than
    ``hours`` (0: issued passwords never expire); else None.

    >>> engine = sa.create_engine("sqlite://")
    >>> ensure_tables(engine)
    >>> with engine.begin() as conn:
    ...     _ = conn.execute(_users_info().insert().values(username="ada", password=b"h1"))
    ...     mark_one_time(conn, "ada", b"h1", ISSUED_AT_RESET)
    ...     later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)
    ...     fresh = expired_one_time(conn, "ada", 72)
    ...     stale = expired_one_time(conn, "ada", 72, now=later)
    ...     fresh is None, stale is not None, expired_one_time(conn, "ada", 0, now=later)
    (True, True, None)
    """
    issued = _issued_at(db, username)
    if issued is None or hours <= 0:
        return None
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    return issued if now - issued > dt.timedelta(hours=hours) else None


def clear_one_time(db: Any, username: str) -> None:
    """Remove ``username``'s mark (their own password replaced the issued one)."""
    db.execute(ONE_TIME.delete().where(ONE_TIME.c.username == username))


def account_audit_path(plan: HubPlan) -> Path:
    """The hub's account audit log: ``<state>/hub/account-audit.jsonl`` (root's, 0700 folder)."""
    return plan.state_dir / "account-audit.jsonl"


def audit_account(
    path: Path | str,
    event: str,
    identity: str,
    *,
    where: str,
    source: str,
    outcome: str = "success",
    reason: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Append one account event (``account.password-issued``, ``account.one-time-login``,
    ``account.password-changed``) to the hub's account log; returns the record.

    Read it with ``genesis-lab audit show --log <state>/hub/account-audit.jsonl``.

    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "account-audit.jsonl"
    >>> audit_account(log, "account.password-changed", "ada", where="/hub/change-password",
    ...               source="127.0.0.1")["seq"]
    0
    """
    from genesis_lab.access.audit import AuditLog

    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return AuditLog(path).append(event_type=event, where=where, source=source, outcome=outcome,
                                 identity=identity, reason=reason, **extra)  # fmt: skip


def reset_password(plan: HubPlan, username: str | None = None) -> tuple[str, str]:
    """Give ``username`` (default: the site's first admin) a new random one-time password; returns
    ``(username, password)``. The user is created (approved) if the database has none by that
    name. Works while the hub runs: the hub reads the hash and the mark from the database each
    time. The password is marked one-time (the hub sends its holder to the change-password page
    until they choose their own) and the issue is audited."""
    import bcrypt

    if plan.site.authenticator != "native":
        raise SettingsError("Passwords are the identity provider's with hub.authenticator: oauth.")
    name = username or (plan.site.admin_users[0] if plan.site.admin_users else "")
    if not name:
        raise SettingsError("hub.admin_users is empty: name the user, reset-password USER.")
    if name not in plan.site.admin_users:
        raise SettingsError(
            f"user={name!r} is not in hub.admin_users ({', '.join(plan.site.admin_users)}); "
            "ordinary users change their password at /hub/change-password."
        )
    engine = sa.create_engine(plan.db_url)
    try:
        ensure_tables(engine)
        password = secrets.token_urlsafe(12)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        with engine.begin() as conn:
            table = _users_info()
            found = conn.execute(sa.select(table.c.id).where(table.c.username == name)).first()
            if found is None:
                conn.execute(table.insert().values(username=name, password=hashed,
                                                   is_authorized=True))  # fmt: skip
            else:
                conn.execute(table.update().where(table.c.username == name)
                             .values(password=hashed, is_authorized=True))  # fmt: skip
            mark_one_time(conn, name, hashed, ISSUED_AT_RESET)
    finally:
        engine.dispose()
    audit_account(account_audit_path(plan), "account.password-issued", name, where=ISSUED_AT_RESET,
                  source="local", by=getpass.getuser())  # fmt: skip
    return name, password
