"""The tornado application of the genesis service, and how to serve it.

>>> from genesis_lab.service.app import make_app  # doctest: +SKIP
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web

from genesis_lab.service.auth import make_hub_auth
from genesis_lab.service.courses import COURSE_HANDLERS
from genesis_lab.service.handlers import HANDLERS, NotFoundHandler
from genesis_lab.service.state import ServiceState
from genesis_lab.service.usage import USAGE_HANDLERS
from genesis_lab.settings import Settings, get_settings

__all__ = ["make_app", "serve", "single_identity_notice"]


def make_app(settings: Settings | None = None, *, hub_auth: Any = None) -> web.Application:
    """The service's application, routed under ``settings.service_prefix``.

    >>> from genesis_lab.settings import Settings
    >>> app = make_app(Settings(hub_api_url="http://127.0.0.1:1/hub/api", hub_api_token="t"),
    ...     hub_auth=object())
    >>> app.settings["genesis_state"].prefix
    '/services/genesis/'
    """
    settings = settings or get_settings()
    if hub_auth is None:
        name = settings.service.get("name", "genesis")
        hub_auth = make_hub_auth(settings, access_scopes={f"access:services!service={name}"})
    state = ServiceState(settings, hub_auth)
    prefix = state.prefix
    routes: list[Any] = [
        (prefix + pattern, handler, {"state": state})
        for pattern, handler in [*HANDLERS, *USAGE_HANDLERS, *COURSE_HANDLERS]
    ]
    routes.append((prefix + "oauth_callback", HubOAuthCallbackHandler))
    return web.Application(
        routes,
        hub_auth=hub_auth,
        genesis_state=state,
        default_handler_class=NotFoundHandler,
        default_handler_args={"state": state},
        cookie_secret=secrets.token_bytes(32),
    )


def single_identity_notice(settings: Settings) -> str:
    """The one line the service logs at start when sessions share its Unix identity.

    >>> from genesis_lab.settings import Settings
    >>> single_identity_notice(Settings(single_identity=True)).startswith("genesis service:")
    True
    """
    from genesis_lab.catalog.catalog import load_catalog

    restricted = sorted({e.marking for e in load_catalog(settings, warn=False)} - {"public"})
    held = f" ({', '.join(restricted)} entries withheld)" if restricted else ""
    return (
        "genesis service: single-identity trial, serving public entries only"
        f"{held}: sessions run as the service's own Unix user, so restricted data cannot be "
        "kept from them; start the hub as root to give every user a Unix account of their own."
    )


def serve(settings: Settings | None = None, *, port: int | None = None) -> None:
    """Listen where the hub says (``JUPYTERHUB_SERVICE_URL``) or on ``127.0.0.1:port``; run forever."""
    import asyncio
    import signal

    from genesis_lab.service.accounting_sync import run_sync

    settings = settings or get_settings()
    host, bind_port = "127.0.0.1", port
    if settings.service_bind_url and bind_port is None:
        parsed = urlparse(settings.service_bind_url)
        host = parsed.hostname or host
        bind_port = parsed.port
    if bind_port is None:
        bind_port = 10101

    async def main() -> None:
        app = make_app(settings)
        guard = app.settings["genesis_state"].guard
        guard.check_at_start()
        guard_task = asyncio.ensure_future(guard.run())
        sync_task = asyncio.ensure_future(run_sync(settings))
        if settings.single_identity:
            print(single_identity_notice(settings), flush=True)
        server = app.listen(bind_port, address=host, xheaders=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
        guard_task.cancel()
        sync_task.cancel()
        await guard.close()  # the shutdown checkpoint

    asyncio.run(main())
