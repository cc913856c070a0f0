"""Hub authentication for the service: JupyterHub's ``HubOAuth``, asked afresh on every request.

``HubAuth`` caches the hub's answer per token (five minutes by default, and ``0`` means forever);
the service never uses that cache, so a group removed from a user counts on their next request,
whatever token they hold.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.services.auth import HubOAuth

from genesis_lab.settings import Settings

__all__ = ["FreshHubOAuth", "make_hub_auth"]


class FreshHubOAuth(HubOAuth):
    """``HubOAuth`` that asks the hub about the token on every request (no cached answers)."""

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):  # type: ignore[override]
        return super().user_for_token(token, use_cache=False, session_id=session_id, sync=sync)


def make_hub_auth(settings: Settings, **overrides: Any) -> FreshHubOAuth:
    """The service's hub client, configured from the settings the hub injected.

    The OAuth client id and callback for browser logins are read by JupyterHub from the
    service's environment (``JUPYTERHUB_CLIENT_ID``, ``JUPYTERHUB_OAUTH_CALLBACK_URL``).

    >>> from genesis_lab.settings import Settings
    >>> make_hub_auth(Settings(hub_api_url="http://127.0.0.1:1/hub/api", hub_api_token="x"),
    ...     access_scopes={"access:services!service=genesis"}).api_url
    'http://127.0.0.1:1/hub/api'
    """
    kwargs: dict[str, Any] = {}
    if settings.hub_api_url:
        kwargs["api_url"] = settings.hub_api_url
    if settings.hub_api_token:
        kwargs["api_token"] = settings.hub_api_token
    kwargs.update(overrides)
    return FreshHubOAuth(**kwargs)
