"""The contract of a campaign policy: propose a batch of points, be told how each one went.

``replay`` feeds a trial from the store back on resume, without proposing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Policy", "Suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """A point proposed by a policy; ``key`` lets the policy match the result to its request."""

    key: Any
    params: dict[str, Any]


@runtime_checkable
class Policy(Protocol):
    """What a campaign needs from a policy.

    ``values`` are the objective values in the objective's order (directions are the
    policy's business); ``violations`` are constraint values, <= 0 meaning feasible.
    """

    name: str

    def ask(self, n: int) -> list[Suggestion]:
        """Propose ``n`` points to run together (a batch)."""
        ...

    def tell(
        self,
        key: Any,
        values: Sequence[float] | None,
        violations: Sequence[float] = (),
    ) -> None:
        """The result of a proposed point; ``values=None`` means the trial failed."""
        ...

    def replay(
        self,
        params: Mapping[str, Any],
        values: Sequence[float] | None,
        violations: Sequence[float] = (),
    ) -> None:
        """A finished trial from the store (resume), as if it had been proposed and told."""
        ...
