"""The hub's password pages, and the gate in front of the others for one-time passwords.

:class:`ChangePassword` (``/hub/change-password``) and :class:`ChangePasswordAdmin`
(``/hub/change-password/<user>``) replace nativeauthenticator's forms (``genesis-change-password.html``:
a Show/Hide text button instead of an emoji, audited changes). :class:`OneTimeGate` sends a user
who signed in with a password the platform issued (:mod:`genesis_lab.hub.passwords`) from every
hub page to the change form until they choose their own, and :class:`OneTimeApiGate` refuses
their cookie's API requests; requests made with an API token pass.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import apihandlers
from jupyterhub.apihandlers import auth as hub_api_auth
from jupyterhub.handlers import base as hub_base
from jupyterhub.handlers import pages as hub_pages
from nativeauthenticator.handlers import ChangePasswordAdminHandler, ChangePasswordHandler
from tornado import web
from tornado.httputil import url_concat

from genesis_lab.hub.passwords import ONE_TIME_MESSAGE, issued_by_admin, mark_one_time

__all__ = [
    "TEMPLATE",
    "ChangePassword",
    "ChangePasswordAdmin",
    "OneTimeGate",
    "change_url",
    "gated",
    "hub_api_routes",
    "hub_page_routes",
]

TEMPLATE = "genesis-change-password.html"

_UNGATED_PAGES = (hub_pages.HealthCheckHandler, hub_pages.ProxyErrorHandler)
_GATED_BASE = (hub_base.UserUrlHandler, hub_base.UserRedirectHandler)


def change_url(handler: Any, next_url: str = "") -> str:
    """The change-password page's address, with where to go afterwards as ``next``."""
    url = f"{handler.hub.base_url}change-password"
    return url_concat(url, {"next": next_url}) if next_url else url


class OneTimeGate:
    """Handler mixin: a user signed in (by the hub's cookie) who still holds a one-time password
    is redirected to the change-password page, with the page they asked for as ``next``."""

    async def prepare(self) -> None:
        await super().prepare()  # type: ignore[misc]
        if self._finished:  # type: ignore[attr-defined]
            return
        user = self.current_user  # type: ignore[attr-defined]
        if user is None or getattr(self, "_token_authenticated", False):
            return
        if getattr(user, "name", None) and self.authenticator.holds_one_time_password(user.name):  # type: ignore[attr-defined]
            self.hold_back()

    def hold_back(self) -> None:
        self.redirect(change_url(self, self.request.uri))  # type: ignore[attr-defined]


class OneTimeApiGate(OneTimeGate):
    """API handler mixin: a request made with the hub's cookie by a user who still holds a
    one-time password is refused (403), so the password cannot mint a lasting API token or start
    work before it is replaced; requests made with an API token pass."""

    def hold_back(self) -> None:
        raise web.HTTPError(403, f"{ONE_TIME_MESSAGE} Choose your own at {change_url(self)}.")


_gated: dict[tuple[type, type], type] = {}


def gated(handler: type, gate: type = OneTimeGate) -> type:
    """``handler`` behind ``gate`` (one subclass per gate and handler class).

    >>> gated(hub_pages.HomeHandler).__mro__[1] is OneTimeGate
    True
    """
    if (gate, handler) not in _gated:
        _gated[gate, handler] = type(f"OneTimeGated{handler.__name__}", (gate, handler),
                                     {"__doc__": handler.__doc__})  # fmt: skip
    return _gated[gate, handler]


def hub_api_routes() -> list[tuple[Any, ...]]:
    """The hub's REST API behind :class:`OneTimeApiGate` (the OAuth endpoints stay as they are:
    their authorization page is behind the page gate).

    >>> any(route[0] == r"/api/users/([^/]+)/tokens" for route in hub_api_routes())
    True
    """
    return [
        (path, gated(handler, OneTimeApiGate), *rest)
        for path, handler, *rest in apihandlers.default_handlers
        if handler.__module__ != hub_api_auth.__name__
    ]


def hub_page_routes() -> list[tuple[Any, ...]]:
    """JupyterHub's own pages (home, spawn, token, admin, ...), its redirects to a user's server
    and the OAuth authorization a session or service asks for, each behind the gate; the
    authenticator's routes come first, so these replace the hub's.

    >>> any(route[0] == r"/home" for route in hub_page_routes())
    True
    """
    routes = [r for r in hub_pages.default_handlers if r[1] not in _UNGATED_PAGES]
    routes += [r for r in hub_base.default_handlers if r[1] in _GATED_BASE]
    routes += [r for r in hub_api_auth.default_handlers
               if r[1] is hub_api_auth.OAuthAuthorizeHandler]  # fmt: skip
    return [(path, gated(handler), *rest) for path, handler, *rest in routes]


def _weak(authenticator: Any) -> str:
    length = authenticator.minimum_password_length
    longer = f" has at least {length} characters and" if length > 0 else ""
    return f"Choose a stronger password: make sure it{longer} is not a common one."


class ChangePassword(ChangePasswordHandler):
    """``/hub/change-password``: the user's own password. After a one-time password, the page
    says why it came first; the change ends the one-time mark and is audited either way."""

    async def _page(self, message: str = "", alert: str = "", continue_url: str = "") -> str:
        name = self.current_user.name
        return await self.render_template(
            TEMPLATE,
            user_name=name,
            for_admin=False,
            one_time=self.authenticator.holds_one_time_password(name),
            one_time_message=ONE_TIME_MESSAGE,
            result_message=message,
            alert=alert,
            continue_url=continue_url,
        )

    @web.authenticated
    async def get(self) -> None:
        self.finish(await self._page())

    @web.authenticated
    async def post(self) -> None:
        auth = self.authenticator
        name = self.current_user.name
        old = self.get_body_argument("old_password", "", strip=False)
        new = self.get_body_argument("new_password", "", strip=False)
        again = self.get_body_argument("new_password_confirmation", "", strip=False)
        was_one_time = auth.holds_one_time_password(name)
        info = auth.get_user(name)
        if info is None or not info.is_valid_password(old):
            problem = "Your current password was incorrect. Please try again."
        elif new != again:
            problem = "Your new password didn't match the confirmation. Please try again."
        elif new == old:
            problem = "Choose a password other than the one you signed in with."
        elif not auth.change_password(name, new):
            problem = _weak(auth)
        else:
            problem = ""
        auth.audit_account("account.password-changed", name, self,
                           outcome="denied" if problem else "success", reason=problem,
                           one_time=was_one_time)  # fmt: skip
        if problem:
            self.set_status(400)
            self.finish(await self._page(problem, "alert-danger"))
            return
        auth.clear_one_time_password(name)
        home = f"{self.hub.base_url}home"
        self.finish(await self._page("Your password has been changed successfully.", "alert-success",
                                     self.get_next_url(self.current_user, default=home)))  # fmt: skip


class ChangePasswordAdmin(ChangePasswordAdminHandler):
    """``/hub/change-password/<user>``: an admin sets another user's password. The admin knows
    it, so it is one-time (the user chooses their own at their next sign-in); the issue is
    audited with the admin as ``by``."""

    def render_template(self, name: str, sync: bool = False, **ns: Any) -> Any:
        if name == "change-password-admin.html":
            auth, me = self.authenticator, self.current_user
            hours = auth.one_time_password_hours
            issues = me is None or auth.normalize_username(ns.get("user_name", "")) != me.name
            name, ns = TEMPLATE, {**ns, "for_admin": True, "issues_one_time": issues,
                                  "one_time_hours": f"{hours:g}" if hours > 0 else ""}  # fmt: skip
        return super().render_template(name, sync=sync, **ns)

    async def post(self, user_name: str) -> None:
        auth = self.authenticator
        before = auth.stored_hash(user_name)
        await super().post(user_name)
        after = auth.stored_hash(user_name)
        changed = before is not None and after is not None and after != before
        by = self.current_user.name if self.current_user else ""
        own = auth.normalize_username(user_name) == by
        if changed and not own:
            mark_one_time(auth.db, auth.normalize_username(user_name), after, issued_by_admin(by))
            auth.db.commit()
        event = "account.password-changed" if own else "account.password-issued"
        auth.audit_account(event, user_name, self, outcome="success" if changed else "denied",
                           by=by, reason="" if changed else "refused: see the page's message")  # fmt: skip
