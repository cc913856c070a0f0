"""Grant, revoke and list clearances: membership of the hub group each access marking names.

The hub is the one record of who holds what; the genesis service reads it on every request, so a
change counts on the caller's next request. Calls go to the hub's REST API with an admin's or a
clearance officer's token.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from genesis_lab.access.hubapi import HubAPIError, HubClient
from genesis_lab.access.policy import RESTRICTED_MARKINGS
from genesis_lab.errors import ParameterError

__all__ = ["HubClient", "clearances", "grant", "revoke"]


def _group(marking: str, clearance_groups: Mapping[str, str]) -> str:
    if marking not in RESTRICTED_MARKINGS:
        raise ParameterError(
            f"marking={marking!r} needs no clearance or is unknown; allowed values: "
            f"{', '.join(sorted(RESTRICTED_MARKINGS))}"
        )
    return clearance_groups.get(marking, f"clearance-{marking}")


def _user(hub: HubClient, user: str) -> dict[str, Any]:
    try:
        return hub.call("GET", f"/users/{urllib.parse.quote(user)}")
    except HubAPIError as exc:
        if exc.status == 404:
            raise ParameterError(
                f"user={user!r} is not a hub user: they sign up at /hub/signup and an admin "
                "approves them at /hub/authorize first."
            ) from None
        raise


def grant(hub: HubClient, user: str, marking: str, clearance_groups: Mapping[str, str]) -> None:
    """Give ``user`` the clearance for ``marking`` (add them to its hub group)."""
    group = _group(marking, clearance_groups)
    _user(hub, user)
    hub.call("POST", f"/groups/{urllib.parse.quote(group)}/users", {"users": [user]})


def revoke(hub: HubClient, user: str, marking: str, clearance_groups: Mapping[str, str]) -> None:
    """Take the clearance for ``marking`` from ``user`` (remove them from its hub group)."""
    group = _group(marking, clearance_groups)
    _user(hub, user)
    hub.call("DELETE", f"/groups/{urllib.parse.quote(group)}/users", {"users": [user]})


def clearances(
    hub: HubClient, clearance_groups: Mapping[str, str], user: str | None = None
) -> dict[str, list[str]]:
    """The clearances of ``user``, or of every user who holds one: ``{user: [marking, ...]}``."""
    groups = {clearance_groups.get(m, f"clearance-{m}"): m for m in RESTRICTED_MARKINGS}
    if user is not None:
        held = [groups[g] for g in _user(hub, user).get("groups", []) if g in groups]
        return {user: sorted(held)}
    out: dict[str, list[str]] = {}
    for group, marking in groups.items():
        try:
            members = hub.call("GET", f"/groups/{urllib.parse.quote(group)}").get("users", [])
        except HubAPIError as exc:
            if exc.status == 404:
                continue
            raise
        for name in members:
            out.setdefault(name, []).append(marking)
    return {name: sorted(marks) for name, marks in sorted(out.items())}
