"""Who an MCP server acts for: the user, their allocation, the client and the human gate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesis_lab.settings import Settings, get_settings

if TYPE_CHECKING:
    from genesis_lab.mcp.gate import Gate

__all__ = ["AgentContext"]


class AgentContext:
    """The identity an agent's tools run under, and the gate that holds costly calls.

    ``gate`` defaults to ``Gate.for_session()`` (made on first use). ``client_name`` is a
    fallback: the name the client gave in ``initialize`` wins when there is one.

    >>> ctx = AgentContext(user="ada", allocation="local", gate=object())
    >>> ctx.user, ctx.allocation
    ('ada', 'local')
    """

    def __init__(
        self,
        user: str,
        allocation: str | None = None,
        *,
        client_name: str = "",
        token_note: str = "",
        gate: Gate | Any = None,
        state_dir: Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.user = user
        self.allocation = allocation
        self.client_name = client_name
        self.token_note = token_note
        self.settings = settings
        self._gate = gate
        self.state_dir = state_dir

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kw: Any) -> AgentContext:
        """The session's own identity and allocation, as the SDK reads them.

        >>> AgentContext.from_settings(gate=object()).user == get_settings().user
        True
        """
        settings = settings or get_settings()
        return cls(settings.user, settings.allocation, settings=settings, **kw)

    @property
    def gate(self) -> Gate | Any:
        """The human gate (H2's :class:`genesis_lab.mcp.gate.Gate`), made on first use."""
        if self._gate is None:
            from genesis_lab.mcp.gate import Gate

            self._gate = Gate.for_session()
        return self._gate

    @gate.setter
    def gate(self, value: Gate | Any) -> None:
        self._gate = value

    def jobs_dir(self) -> Path:
        """Where this user's agent jobs are kept (survives a server restart)."""
        base = self.state_dir or (self.settings or get_settings()).state_dir
        assert base is not None
        return Path(base) / "mcp-jobs" / self.user
