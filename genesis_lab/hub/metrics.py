"""The hub's own Prometheus metrics of genesis-lab, served with JupyterHub's at ``/hub/metrics``.

Spawns and refusals by allocation and reason, the time a session waits from its request to
ready (the queue, for SLURM), and the sessions running per allocation.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["ACTIVE_SESSIONS", "SPAWNS", "SPAWN_PENDING", "SPAWN_REFUSALS", "refusal_reason"]

SPAWNS = Counter(
    "genesis_spawns",
    "Session starts by allocation and outcome (started, failed, refused)",
    ["allocation", "outcome"],
)
SPAWN_REFUSALS = Counter(
    "genesis_spawn_refusals",
    "Sessions refused by the site's rules, by allocation and reason",
    ["allocation", "reason"],
)
SPAWN_PENDING = Histogram(
    "genesis_spawn_pending_seconds",
    "Seconds from a session's start to its server answering (queue wait included)",
    ["allocation"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
ACTIVE_SESSIONS = Gauge(
    "genesis_active_sessions", "Sessions running, by allocation", ["allocation"]
)

_REASONS = (
    ("is not a member", "not-member"),
    ("budget", "budget-spent"),
    ("Request beyond", "beyond-limits"),
    ("Unknown session option", "unknown-option"),
    ("not been approved", "not-approved"),
)


def refusal_reason(message: str) -> str:
    """A short label for a refusal message (Prometheus labels must stay few).

    >>> refusal_reason("Session refused: User 'a' is not a member of allocation 'x'.")
    'not-member'
    """
    for fragment, label in _REASONS:
        if fragment in message:
            return label
    return "other"
