"""A new one-time password for a hub admin, written straight into the hub's database.

For the first admin who lost the password ``genesis-lab up`` printed once. Only the bcrypt hash is
stored; the password is printed once by ``genesis-lab admin reset-password``.
"""

from __future__ import annotations

import secrets

from genesis_lab.errors import SettingsError
from genesis_lab.hub.config import HubPlan

__all__ = ["reset_password"]


def reset_password(plan: HubPlan, username: str | None = None) -> tuple[str, str]:
    """Give ``username`` (default: the site's first admin) a new random password; returns
    ``(username, password)``. The user is created (approved) if the database has none by that
    name. Works while the hub runs: logins read the hash from the database each time."""
    import bcrypt
    import sqlalchemy as sa
    from nativeauthenticator.orm import UserInfo

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
        UserInfo.metadata.create_all(engine, tables=[UserInfo.__table__])
        password = secrets.token_urlsafe(12)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        with engine.begin() as conn:
            table = UserInfo.__table__
            found = conn.execute(sa.select(table.c.id).where(table.c.username == name)).first()
            if found is None:
                conn.execute(table.insert().values(username=name, password=hashed,
                                                   is_authorized=True))  # fmt: skip
            else:
                conn.execute(table.update().where(table.c.username == name)
                             .values(password=hashed, is_authorized=True))  # fmt: skip
    finally:
        engine.dispose()
    return name, password
