"""Sign-in through a centre's identity provider (``hub.authenticator: oauth``), after the notice.

CILogon or a generic OAuth/OIDC provider (oauthenticator), with the system-use notice of
:mod:`genesis_lab.hub.notice_gate`: the login page shows it above a "Sign in with …" button that
stays disabled until its box is ticked; ``/hub/oauth_login`` refuses to send the browser to the
provider without the acknowledgement (403, the native sign-in's message); the callback audits it
once the provider has named the user. The callback needs the state cookie that only an
acknowledged ``/hub/oauth_login`` sets, so every login through it was acknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from jupyterhub.handlers.login import LoginHandler
from oauthenticator.cilogon import CILogonLoginHandler, CILogonOAuthenticator
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthCallbackHandler, OAuthLoginHandler

from genesis_lab.hub.notice import ACK_FIELD, NOT_ACKNOWLEDGED
from genesis_lab.hub.notice_gate import NoticeGate, SystemUseNotice

__all__ = ["GenesisCILogonOAuthenticator", "GenesisGenericOAuthenticator"]


def _login_page(handler: Any, login_error: str | None = None, **kw: Any) -> Awaitable[str]:
    """``login.html`` with the notice, its box and the provider's button (a GET form)."""
    auth = handler.authenticator
    kw.update(oauth_login_url=auth.login_url(handler.hub.base_url),
              oauth_next=handler.get_argument("next", ""))  # fmt: skip
    return LoginHandler._render(handler, login_error=login_error, **handler.with_notice(kw))


class _LoginPage(NoticeGate, LoginHandler):
    """``/hub/login``: the notice above the provider's button."""

    def _render(self, login_error: str | None = None, username: str | None = None, **kw: Any):
        return _login_page(self, login_error, username=username, **kw)


class _NoticeLogin(NoticeGate):
    """``/hub/oauth_login`` (mixed into the provider's login handler): no redirect to the
    provider without the acknowledgement."""

    async def get(self) -> None:
        if self.notice_refused({ACK_FIELD: self.get_argument(ACK_FIELD, "")}, "Sign-in"):
            self.finish(await _login_page(self, NOT_ACKNOWLEDGED))
            return
        super().get()


class _CILogonLogin(_NoticeLogin, CILogonLoginHandler):
    pass


class _GenericLogin(_NoticeLogin, OAuthLoginHandler):
    pass


class _Callback(NoticeGate, OAuthCallbackHandler):
    """``/hub/oauth_callback``: the provider's answer; the acknowledgement audited after login."""

    async def login_user(self, data: dict[str, Any] | None = None) -> Any:
        user = await super().login_user(data)
        if user is not None:
            await self.record_notice(user)
        return user


class _NoticeOAuthenticator(SystemUseNotice):
    """The login page with the notice, in front of an OAuthenticator's own handlers."""

    callback_handler = _Callback

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [("/login", _LoginPage), *super().get_handlers(app)]


class GenesisCILogonOAuthenticator(_NoticeOAuthenticator, CILogonOAuthenticator):
    """CILogon sign-in behind the system-use notice (``hub.oauth.provider: cilogon``).

    >>> [path for path, _ in GenesisCILogonOAuthenticator().get_handlers(None)]
    ['/login', '/oauth_login', '/oauth_callback', '/logout']
    """

    login_handler = _CILogonLogin


class GenesisGenericOAuthenticator(_NoticeOAuthenticator, GenericOAuthenticator):
    """A generic OAuth 2 / OIDC provider behind the system-use notice (``provider: generic``).

    >>> GenesisGenericOAuthenticator(login_banner="").notice_context()["genesis_notice"]
    []
    """

    login_handler = _GenericLogin
