"""Process-wide caches that depend on settings register here, so ``reset_settings`` clears them."""

from __future__ import annotations

from collections.abc import Callable

_CLEARERS: list[Callable[[], None]] = []


def register(clear: Callable[[], None]) -> Callable[[], None]:
    """Remember ``clear`` (for example ``functools.cache``'s ``cache_clear``) to run on reset."""
    _CLEARERS.append(clear)
    return clear


def clear_all() -> None:
    """Run every registered clearer."""
    for clear in _CLEARERS:
        clear()
