"""Vetted users: sign-up, then an admin's approval (jupyterhub-nativeauthenticator, bcrypt hashes).

Clearances are hub groups; the first admin is created from a bcrypt hash the launcher leaves.
Sign-in and sign-up show the system-use notice (:mod:`genesis_lab.hub.notice`) and need its
acknowledgement (:mod:`genesis_lab.hub.notice_gate`, shared with the OAuth login). Works on
JupyterHub 5.5 and 6.x: the login handler here replaces nativeauthenticator 1.3's, whose
``self.statsd`` timer JupyterHub 6 removed (6 times logins in its own Prometheus metrics).
A password the platform issued is one-time (:mod:`genesis_lab.hub.passwords`): its holder goes
from every hub page to the change form until they choose their own
(:mod:`genesis_lab.hub.password_pages`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jupyterhub import orm
from jupyterhub.handlers.login import LoginHandler as HubLoginHandler
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import (
    ChangePasswordAdminHandler,
    ChangePasswordHandler,
    EmailAuthorizationHandler,
    LoginHandler,
    SignUpHandler,
    ToggleAuthorizationHandler,
)
from nativeauthenticator.orm import UserInfo
from tornado import web
from traitlets import Dict, Float, Unicode

from genesis_lab.errors import AuditError
from genesis_lab.hub.metrics import SPAWN_REFUSALS
from genesis_lab.hub.notice import ACK_FIELD, NOT_ACKNOWLEDGED
from genesis_lab.hub.notice_gate import NoticeGate, SystemUseNotice
from genesis_lab.hub.password_pages import (
    ChangePassword,
    ChangePasswordAdmin,
    change_url,
    gated,
    hub_api_routes,
    hub_page_routes,
)
from genesis_lab.hub.passwords import (
    ISSUED_AT_UP,
    audit_account,
    clear_one_time,
    ensure_tables,
    expired_one_time,
    holds_one_time,
    mark_one_time,
)
from genesis_lab.hub.spawner import AllocationRefused

__all__ = ["GenesisAuthenticator", "clearances_of"]


def clearances_of(group_names: list[str], clearance_groups: dict[str, str]) -> list[str]:
    """The clearances (access markings) that membership of ``group_names`` grants.

    >>> clearances_of(["clearance-controlled", "physics"], {"controlled": "clearance-controlled"})
    ['controlled']
    """
    names = set(group_names)
    return sorted(marking for marking, group in clearance_groups.items() if group in names)


class GenesisAuthenticator(SystemUseNotice, NativeAuthenticator):
    """NativeAuthenticator with genesis-lab's rules.

    * Users sign up at ``/hub/signup``; nobody logs in or starts a session before an admin
      approves them at ``/hub/authorize`` (withdrawing approval stops new sessions too).
    * Approval is also membership of the hub group ``vetted_group``: approving adds the user,
      withdrawing removes them, so the genesis service, which reads the user's groups from the
      hub on every request, stops serving restricted data to tokens issued before the withdrawal.
    * An admin grants a clearance by adding the user to its hub group (``clearance_groups``).
    * The first admin's password arrives as a bcrypt hash in ``first_admin_hash_file``, which is
      read once and deleted; no password is ever stored or logged in clear.
    * That password, those of ``genesis-lab admin reset-password`` and those an admin sets for
      another user at ``/hub/change-password/<user>`` are one-time: after signing in with one,
      every hub page leads to ``/hub/change-password`` until the user sets their own (API tokens
      are not affected); unused for ``one_time_password_hours``, one no longer signs in. Issues,
      such sign-ins and changes are audited in ``account_audit_log``.
    * ``login_banner`` is shown above the sign-in and sign-up forms; a login or sign-up posted
      without its acknowledgement is refused, and each acknowledged login is audited by the
      ``notice_service``.
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

    account_audit_log = Unicode(
        "",
        help="Hash-chained audit log of account events (passwords issued, sign-ins with a "
        "one-time password, password changes); empty: the hub's log only.",
    ).tag(config=True)

    one_time_password_hours = Float(
        72,
        help="Hours a password the platform issued stays valid while its holder has not chosen "
        "their own (0: no limit).",
    ).tag(config=True)

    vetted_group = Unicode(
        "vetted",
        help="Hub group whose members are the approved users (kept in step with approval); "
        "empty: no group.",
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        ensure_tables(self.db.get_bind())
        self.import_first_admin()
        for info in UserInfo.all_users(self.db):
            if info.is_authorized:
                self.sync_vetted(info.username)

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        replaced = {
            LoginHandler: _Login,
            SignUpHandler: _SignUp,
            ToggleAuthorizationHandler: _ToggleAuthorization,
            EmailAuthorizationHandler: _EmailAuthorization,
            ChangePasswordHandler: ChangePassword,
            ChangePasswordAdminHandler: ChangePasswordAdmin,
        }
        ungated = {_Login, _SignUp, ChangePassword}
        native = [(path, replaced.get(h, h)) for path, h in super().get_handlers(app)]
        return [
            *((p, h if h in ungated else gated(h)) for p, h in native),
            *hub_page_routes(),
            *hub_api_routes(),
        ]

    def get_user(self, username: str) -> UserInfo | None:
        """The user's record, read again from the database (``reset-password`` changes it from
        another process; the hub's session keeps objects it loaded)."""
        name = self.normalize_username(username)
        return self.db.query(UserInfo).populate_existing().filter(UserInfo.username == name).first()

    def stored_hash(self, username: str) -> bytes | None:
        """The bcrypt hash stored for ``username`` now, or None."""
        table = UserInfo.__table__
        name = self.normalize_username(username)
        row = self.db.execute(sa.select(table.c.password).where(table.c.username == name)).first()
        return None if row is None else bytes(row[0])

    def holds_one_time_password(self, username: str) -> bool:
        """Whether ``username`` still has the password the platform issued them."""
        return holds_one_time(self.db, self.normalize_username(username))

    def expired_one_time_password(self, username: str) -> dt.datetime | None:
        """When ``username``'s issued password was issued, if it expired unused; else None."""
        name = self.normalize_username(username)
        return expired_one_time(self.db, name, self.one_time_password_hours)

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> str | None:
        """nativeauthenticator's check, and an issued password that expired unused refused."""
        username = await super().authenticate(handler, data)
        if username and self.expired_one_time_password(username) is not None:
            self.audit_account("account.one-time-login", username, handler, outcome="denied",
                               reason="the one-time password expired unused")  # fmt: skip
            return None
        return username

    def clear_one_time_password(self, username: str) -> None:
        """End ``username``'s one-time mark (they chose their own password)."""
        clear_one_time(self.db, self.normalize_username(username))
        self.db.commit()

    def audit_account(self, event: str, identity: str, handler: Any = None, **fields: Any) -> None:
        """Record an account event in ``account_audit_log`` (``where``/``source`` from the
        request); a failure to write it is logged and does not undo the event."""
        self.log.info("%s: %s %s", event, identity, fields.get("outcome", "success"))
        if not self.account_audit_log:
            return
        request = handler.request if handler is not None else None
        where = request.path if request is not None else "hub"
        source = (request.remote_ip or "") if request is not None else "local"
        try:
            audit_account(self.account_audit_log, event, identity, where=where, source=source,
                          **fields)  # fmt: skip
        except (OSError, AuditError) as exc:
            self.log.error("The account audit log %s did not record %s of %s: %s",
                           self.account_audit_log, event, identity, exc)  # fmt: skip

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
            mark_one_time(self.db, username, hashed, ISSUED_AT_UP)
            self.db.commit()
            self.log.info("First admin %r created from the launcher's password hash", username)
            self.audit_account("account.password-issued", username, by=ISSUED_AT_UP)
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
            raise AllocationRefused(
                403,
                f"User {user.name!r} has not been approved by an administrator; "
                "sessions start only after approval.",
                reason="not-approved",
            )
        marks = clearances_of([g.name for g in user.groups], self.clearance_groups)
        spawner.log.info("Clearances of %s: %s", user.name, ", ".join(marks) or "none")


class _Login(NoticeGate, LoginHandler):
    """``/hub/login``: the notice above the form, its acknowledgement checked by the server.

    Replaces nativeauthenticator's handler, whose ``post`` uses ``self.statsd`` (gone in
    JupyterHub 6); renders the hub's own ``login.html`` (genesis_lab/hub/templates).
    """

    def _render(self, login_error: str | None = None, username: str | None = None, **kw: Any):
        kw.setdefault("enable_signup", self.authenticator.enable_signup)
        return HubLoginHandler._render(self, login_error=login_error, username=username,
                                       **self.with_notice(kw))  # fmt: skip

    async def post(self) -> None:
        data = {arg: self.get_argument(arg, strip=False)
                for arg in self.request.body_arguments if arg != "_xsrf"}  # fmt: skip
        username = data.get("username", "")
        if self.notice_refused(data, "Login"):
            self.finish(await self._render(login_error=NOT_ACKNOWLEDGED, username=username))
            return
        data.pop(ACK_FIELD, None)
        user = await self.login_user(data)
        if user:
            self._jupyterhub_user = user
            await self.record_notice(user)
            if self.authenticator.holds_one_time_password(user.name):
                self.authenticator.audit_account(
                    "account.one-time-login", user.name, self,
                    reason="signed in with a one-time password; sent to change it")  # fmt: skip
                self.redirect(change_url(self, self.get_next_url(user)))
                return
            self.redirect(self.get_next_url(user))
            return
        error = "Invalid username or password."
        info = self.authenticator.get_user(username)
        password = data.get("password", "")
        # the password (bcrypt, slow on purpose) is checked again only when there is more to
        # tell its holder than "invalid"
        issued = self.authenticator.expired_one_time_password(username) if info else None
        telling = info is not None and (not info.is_authorized or issued is not None)
        if telling and info.is_valid_password(password):
            if not info.is_authorized:
                error = f"User {username} has not been authorized by an administrator yet."
            else:
                hours = self.authenticator.one_time_password_hours
                error = (f"This password was issued once, on {issued:%Y-%m-%d %H:%M} UTC, and "
                         f"expired unused after {hours:g} hours: ask an administrator to set a "
                         "new one (the first admin: genesis-lab admin reset-password).")  # fmt: skip
        self.finish(await self._render(login_error=error, username=username))


class _SignUp(NoticeGate, SignUpHandler):
    """``/hub/signup``: the notice above the form; a sign-up without acknowledgement is refused."""

    def render_template(self, name: str, sync: bool = False, **ns: Any) -> Any:
        if name == "signup.html":
            name = "genesis-signup.html"
            ns = self.with_notice(ns)
        return super().render_template(name, sync=sync, **ns)

    async def post(self) -> None:
        if not self.authenticator.enable_signup:
            raise web.HTTPError(404)
        form = {k: self.get_body_argument(k, "") for k in self.request.body_arguments}
        if self.notice_refused(form, "Sign-up"):
            html = await self.render_template(
                "signup.html",
                ask_email=self.authenticator.ask_email_on_signup,
                result_message=NOT_ACKNOWLEDGED,
                alert="alert-danger",
                two_factor_auth=self.authenticator.allow_2fa,
                recaptcha_key=self.authenticator.recaptcha_key,
                tos=self.authenticator.tos,
                username=form.get("username", ""),
            )
            self.finish(html)
            return
        self.log.info("%r acknowledged the system-use notice at sign-up", form.get("username", ""))
        await super().post()


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
