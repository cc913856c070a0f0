"""Vetted users: sign-up, then an admin's approval (jupyterhub-nativeauthenticator, bcrypt hashes).

Clearances are hub groups; the first admin is created from a bcrypt hash the launcher leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyterhub import orm
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import EmailAuthorizationHandler, ToggleAuthorizationHandler
from nativeauthenticator.orm import UserInfo
from tornado import web
from traitlets import Dict, Unicode

from genesis_lab.hub.metrics import SPAWN_REFUSALS

__all__ = ["GenesisAuthenticator", "clearances_of"]


def clearances_of(group_names: list[str], clearance_groups: dict[str, str]) -> list[str]:
    """The clearances (access markings) that membership of ``group_names`` grants.

    >>> clearances_of(["clearance-controlled", "physics"], {"controlled": "clearance-controlled"})
    ['controlled']
    """
    names = set(group_names)
    return sorted(marking for marking, group in clearance_groups.items() if group in names)


class GenesisAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with genesis-lab's rules.

    * Users sign up at ``/hub/signup``; nobody logs in or starts a session before an admin
      approves them at ``/hub/authorize`` (withdrawing approval stops new sessions too).
    * Approval is also membership of the hub group ``vetted_group``: approving adds the user,
      withdrawing removes them, so the genesis service, which reads the user's groups from the
      hub on every request, stops serving restricted data to tokens issued before the withdrawal.
    * An admin grants a clearance by adding the user to its hub group (``clearance_groups``).
    * The first admin's password arrives as a bcrypt hash in ``first_admin_hash_file``, which is
      read once and deleted; no password is ever stored or logged in clear.
    """

    clearance_groups = Dict(
        {},
        help="Access marking -> hub group that grants it (from the site file's clearance_groups).",
    ).tag(config=True)

    first_admin_hash_file = Unicode(
        "",
        help="File holding the bcrypt hash of the first admin's one-time password; imported into "
        "the user table at start-up and then deleted.",
    ).tag(config=True)

    vetted_group = Unicode(
        "vetted",
        help="Hub group whose members are the approved users (kept in step with approval); "
        "empty: no group.",
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.import_first_admin()
        for info in UserInfo.all_users(self.db):
            if info.is_authorized:
                self.sync_vetted(info.username)

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        replaced = {
            ToggleAuthorizationHandler: _ToggleAuthorization,
            EmailAuthorizationHandler: _EmailAuthorization,
        }
        return [(path, replaced.get(h, h)) for path, h in super().get_handlers(app)]

    def add_user(self, user: Any) -> None:
        """A user's first login: an approved one joins the vetted group."""
        super().add_user(user)
        self.sync_vetted(user.name)

    def sync_vetted(self, username: str) -> None:
        """Make ``username``'s membership of the vetted group follow their approval.

        A user who has never logged in has no hub user yet; they join at first login.
        """
        if not self.vetted_group:
            return
        user = orm.User.find(self.db, self.normalize_username(username))
        if user is None:
            return
        group = orm.Group.find(self.db, self.vetted_group)
        if group is None:
            group = orm.Group(name=self.vetted_group)
            self.db.add(group)
        approved = self.is_approved(user.name)
        if approved and group not in user.groups:
            user.groups.append(group)
        elif not approved and group in user.groups:
            user.groups.remove(group)
        else:
            return
        self.db.commit()
        self.log.info("%s %s the %s group", user.name,
                      "joined" if approved else "left", self.vetted_group)  # fmt: skip

    def import_first_admin(self) -> None:
        """Create the first admin (approved) from the launcher's bcrypt hash, once."""
        if not self.first_admin_hash_file:
            return
        path = Path(self.first_admin_hash_file)
        if not path.is_file():
            return
        username, _, hashed = path.read_text().strip().partition(":")
        if username and hashed and self.get_user(username) is None:
            self.db.add(UserInfo(username=username, password=hashed.encode(), is_authorized=True))
            self.db.commit()
            self.log.info("First admin %r created from the launcher's password hash", username)
        path.unlink()

    def is_approved(self, username: str) -> bool:
        """Whether an admin approved ``username`` (hub admins always are)."""
        if username in self.admin_users:
            return True
        info = self.get_user(username)
        return bool(info and info.is_authorized)

    def pre_spawn_start(self, user: Any, spawner: Any) -> None:
        if not self.is_approved(user.name):
            SPAWN_REFUSALS.labels("unknown", "not-approved").inc()
            raise web.HTTPError(
                403,
                f"User {user.name!r} has not been approved by an administrator; "
                "sessions start only after approval.",
            )
        marks = clearances_of([g.name for g in user.groups], self.clearance_groups)
        spawner.log.info("Clearances of %s: %s", user.name, ", ".join(marks) or "none")


class _ToggleAuthorization(ToggleAuthorizationHandler):
    """``/hub/authorize/<user>``: toggles approval, then the vetted group follows."""

    async def get(self, slug: str) -> None:
        await super().get(slug)
        if self.authenticator.is_approved(slug):
            # an approved user is a hub user at once, so an admin can grant clearances before
            # their first login
            self.user_from_username(self.authenticator.normalize_username(slug))
        self.authenticator.sync_vetted(slug)


class _EmailAuthorization(EmailAuthorizationHandler):
    """``/hub/confirm/<slug>`` (self-approval by e-mail), then the vetted group follows."""

    async def get(self, slug: str) -> None:
        await super().get(slug)
        try:
            data = self.validate_slug(slug, self.authenticator.secret_key)
        except ValueError:
            return
        self.authenticator.sync_vetted(data["username"])
