"""Who may see and read which catalog entry: one pure decision function over an identity.

Clearances come from hub groups (``Settings.clearance_groups``) or custom scopes
(``custom:genesis:clearance:<marking>``); vetting from the ``vetted_group`` or ``custom:genesis:vetted``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genesis_lab.catalog.entry import MARKINGS, Entry

__all__ = [
    "CLEARANCE_SCOPE_PREFIX",
    "HIDDEN_MARKINGS",
    "RESTRICTED_MARKINGS",
    "VETTED_SCOPE",
    "Decision",
    "Identity",
    "decide",
    "identity_from_hub_model",
    "required_clearance",
]

RESTRICTED_MARKINGS: frozenset[str] = frozenset({"controlled", "proprietary", "export-controlled"})
"""Markings whose data only vetted users holding the matching clearance may read."""

HIDDEN_MARKINGS: frozenset[str] = frozenset({"proprietary", "export-controlled"})
"""Markings whose very existence is hidden from users who may not read them."""

CLEARANCE_SCOPE_PREFIX = "custom:genesis:clearance:"
VETTED_SCOPE = "custom:genesis:vetted"


@dataclass(frozen=True)
class Identity:
    """The caller as the hub describes them at the time of the request.

    >>> Identity("ada", vetted=True, clearances=frozenset({"controlled"})).is_cleared("controlled")
    True
    """

    name: str
    vetted: bool = False
    clearances: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    groups: frozenset[str] = field(default_factory=frozenset)
    kind: str = "user"

    def is_cleared(self, marking: str) -> bool:
        """Whether this identity holds the clearance a marking requires (public needs none)."""
        return marking not in RESTRICTED_MARKINGS or marking in self.clearances


@dataclass(frozen=True)
class Decision:
    """What the caller may do with one entry, and why.

    ``visible``: the entry (metadata, without distributions) may be listed and shown;
    ``may_read``: its data and distributions may be served. ``reason`` is a sentence for a
    person; it is safe to return to the caller only when ``visible`` is true.
    """

    visible: bool
    may_read: bool
    reason: str


def required_clearance(marking: str, clearance_groups: Mapping[str, str]) -> str | None:
    """The hub group that grants ``marking``, or None for a marking that needs no clearance.

    >>> required_clearance("controlled", {"controlled": "clearance-controlled"})
    'clearance-controlled'
    >>> required_clearance("public", {}) is None
    True
    """
    if marking not in MARKINGS:
        raise ValueError(f"marking={marking!r} is unknown. Allowed values: {', '.join(MARKINGS)}")
    if marking not in RESTRICTED_MARKINGS:
        return None
    return clearance_groups.get(marking, f"clearance-{marking}")


def decide(identity: Identity, entry: Entry) -> Decision:
    """The access decision for ``identity`` on ``entry``.

    - ``public``: visible to and readable by every authenticated caller.
    - ``controlled``: visible (metadata stays findable); readable only by vetted callers
      with the ``controlled`` clearance; others are told why.
    - ``proprietary``, ``export-controlled``: readable only by vetted callers with the matching
      clearance, and invisible to everyone else (answered as for an unknown id).

    Admins count as vetted but hold no clearance they have not been granted.

    >>> from genesis_lab.catalog import get_catalog
    >>> e = next(iter(get_catalog()))  # doctest: +SKIP
    >>> decide(Identity("ada"), e).visible  # doctest: +SKIP
    True
    """
    marking = entry.marking
    vetted = identity.vetted or identity.admin
    if marking not in RESTRICTED_MARKINGS:
        return Decision(True, True, "public data")
    cleared = marking in identity.clearances
    if vetted and cleared:
        return Decision(True, True, f"vetted and cleared for {marking}")
    visible = marking not in HIDDEN_MARKINGS
    if not vetted:
        reason = f"{marking} data is served only to vetted users; {identity.name} is not vetted"
    else:
        reason = (
            f"{marking} data needs the {marking} clearance, which {identity.name} does not hold"
        )
    return Decision(visible, False, reason)


def identity_from_hub_model(
    model: Mapping[str, Any],
    *,
    clearance_groups: Mapping[str, str],
    vetted_group: str | None,
) -> Identity:
    """Build an :class:`Identity` from the hub's ``/hub/api/user`` model.

    Clearances are granted by membership of the group named for a marking or by the custom scope
    ``custom:genesis:clearance:<marking>``; vetting by ``vetted_group`` (None: every hub user the
    hub let in is vetted), the scope ``custom:genesis:vetted``, or being an admin.

    >>> m = {"name": "ada", "groups": ["vetted", "clearance-controlled"], "scopes": []}
    >>> sorted(identity_from_hub_model(m, clearance_groups={"controlled": "clearance-controlled"},
    ...     vetted_group="vetted").clearances)
    ['controlled']
    """
    groups = frozenset(str(g) for g in _as_iterable(model.get("groups")))
    scopes = frozenset(str(s) for s in _as_iterable(model.get("scopes")))
    clearances = set()
    for marking in RESTRICTED_MARKINGS:
        group = required_clearance(marking, clearance_groups)
        if group in groups or f"{CLEARANCE_SCOPE_PREFIX}{marking}" in scopes:
            clearances.add(marking)
    admin = bool(model.get("admin", False))
    if vetted_group is None:
        vetted = True
    else:
        vetted = vetted_group in groups or VETTED_SCOPE in scopes or admin
    return Identity(
        name=str(model.get("name", "")),
        vetted=vetted,
        clearances=frozenset(clearances),
        admin=admin,
        groups=groups,
        kind=str(model.get("kind", "user")),
    )


def _as_iterable(value: Any) -> Iterable[Any]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return value
