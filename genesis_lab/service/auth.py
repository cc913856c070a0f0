"""Hub authentication for the service: JupyterHub's ``HubOAuth``, asked afresh for every request.

``HubAuth`` caches the hub's answer per token (five minutes by default, and ``0`` means forever);
the service never uses that cache, so a group removed from a user counts on their next request,
whatever token they hold.

Requests that arrive together with one token share hub lookups, but never one that started
before they arrived: requests arriving within 2 ms share the lookup that starts after them, and
while a lookup is running newcomers wait for the next one, which starts when it ends. A
revocation finished before a request arrived is therefore always seen, and eight chunk requests
sent at once cost the hub one lookup instead of eight (each is ~10 ms of the hub's single
thread here; ``benchmarks/bench_service.py``).

One exception: a handler with ``token_cache_seconds`` (the agent audit endpoint, which decides
nothing about data and only names its caller in the record) reuses the hub's positive answer
for a token that long, as ``HubAuth``'s ``cache_max_age`` would; an agent's every tool call
posts a record there before its answer, so asking the hub each time doubled the call's cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from jupyterhub.services.auth import HubOAuth

from genesis_lab.settings import Settings

__all__ = ["FreshHubOAuth", "FreshLookups", "make_hub_auth"]


class FreshLookups:
    """Coalesce concurrent lookups per key without ever answering from a lookup older than the
    request.

    A request joins the lookup that has not started yet; the next lookup starts ``window``
    seconds after the first request waiting for it arrived (requests sent together arrive within
    a millisecond or two), or as soon as the running one ends.

    >>> import asyncio
    >>> calls = []
    >>> async def fetch(key):
    ...     calls.append(key); await asyncio.sleep(0.01); return len(calls)
    >>> async def main():
    ...     lookups = FreshLookups()
    ...     first = await asyncio.gather(*(lookups.get("t", fetch) for _ in range(5)))
    ...     return first, await lookups.get("t", fetch)
    >>> asyncio.run(main()), len(calls)
    (([1, 1, 1, 1, 1], 2), 2)
    """

    def __init__(self, window: float = 0.002) -> None:
        self.window = window
        self._waiting: dict[Any, asyncio.Future] = {}
        self._running: set[Any] = set()
        self._tasks: set[asyncio.Future] = set()

    async def get(self, key: Any, fetch: Callable[[Any], Awaitable[Any]]) -> Any:
        waiting = self._waiting.get(key)
        if waiting is None:
            loop = asyncio.get_running_loop()
            waiting = self._waiting[key] = loop.create_future()
            if key not in self._running:
                loop.call_later(self.window, self._start, key, fetch)
        return await asyncio.shield(waiting)

    def _start(self, key: Any, fetch: Callable[[Any], Awaitable[Any]]) -> None:
        waiting = self._waiting.pop(key)
        self._running.add(key)
        task = asyncio.ensure_future(fetch(key))
        self._tasks.add(task)

        def finished(done: asyncio.Future) -> None:
            self._tasks.discard(done)
            self._running.discard(key)
            if not waiting.done():
                if done.cancelled():
                    waiting.cancel()
                elif done.exception() is not None:
                    waiting.set_exception(done.exception())
                else:
                    waiting.set_result(done.result())
            if key in self._waiting:  # arrived while this lookup ran: theirs starts now
                self._start(key, fetch)

        task.add_done_callback(finished)


_MAX_AGE: ContextVar[float] = ContextVar("genesis_token_cache_seconds", default=0.0)
"""How old a hub answer the request being authenticated accepts (0: none, ask afresh)."""


class FreshHubOAuth(HubOAuth):
    """``HubOAuth`` that asks the hub about the token for every request (no cached answers),
    except for handlers that set ``token_cache_seconds``."""

    _lookups: FreshLookups | None = None
    _recent: dict[tuple[str, str], tuple[float, dict[str, Any]]] | None = None

    def get_user(self, handler, *, sync=True):  # type: ignore[override]
        max_age = float(getattr(handler, "token_cache_seconds", 0) or 0)
        if sync or max_age <= 0:
            return super().get_user(handler, sync=sync)

        async def with_max_age() -> Any:
            reset = _MAX_AGE.set(max_age)
            try:
                return await super(FreshHubOAuth, self).get_user(handler, sync=False)
            finally:
                _MAX_AGE.reset(reset)

        return with_max_age()

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):  # type: ignore[override]
        if sync:
            return super().user_for_token(token, use_cache=False, session_id=session_id, sync=True)
        if self._lookups is None:
            self._lookups = FreshLookups()
        max_age = _MAX_AGE.get()

        async def fetch(key: tuple[str, str]) -> Any:
            return await super(FreshHubOAuth, self).user_for_token(
                key[0], use_cache=False, session_id=key[1], sync=False
            )

        if max_age <= 0:
            return self._lookups.get((token, session_id), fetch)
        return self._recent_or_fresh(token, session_id, max_age, fetch)

    async def _recent_or_fresh(
        self,
        token: str,
        session_id: str,
        max_age: float,
        fetch: Callable[[tuple[str, str]], Awaitable[Any]],
    ) -> Any:
        """The hub's answer for ``token`` if it is at most ``max_age`` seconds old, else a fresh
        one (kept only when the hub knew the token: an unknown one is asked about every time)."""
        if self._recent is None:
            self._recent = {}
        key = (hashlib.sha256(token.encode("utf8", "replace")).hexdigest(), session_id)
        now = time.monotonic()
        hit = self._recent.get(key)
        if hit is not None and now - hit[0] <= max_age:
            return dict(hit[1])
        model = await self._lookups.get((token, session_id), fetch)  # type: ignore[union-attr]
        if model:
            if len(self._recent) > 10_000:
                self._recent = {k: v for k, v in self._recent.items() if now - v[0] <= max_age}
            self._recent[key] = (now, model)
        else:
            self._recent.pop(key, None)
        return model


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
