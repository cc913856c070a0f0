"""One audit record per agent tool call: tool, argument digest, outcome, identity, client, note.

Inside a hub session the record goes to the genesis service (``POST api/audit/agent``), which
alone writes the tamper-evident log and names the authenticated caller itself; outside a hub it
goes to the local audit log of the settings (:func:`genesis_lab.access.audit.audit_log`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from genesis_lab.errors import AuditError
from genesis_lab.mcp.context import AgentContext
from genesis_lab.settings import get_settings

__all__ = ["EVENT_TYPE", "AgentAudit", "arguments_digest"]

EVENT_TYPE = "agent.tool"


def arguments_digest(arguments: Any) -> str:
    """sha256 of the arguments' canonical JSON (sorted keys, no spaces).

    >>> arguments_digest({"b": 1, "a": [2]}) == arguments_digest({"a": [2], "b": 1})
    True
    """
    text = json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


class AgentAudit:
    """Writes the agent records of one context where the SDK's session writes its own."""

    def __init__(self, context: AgentContext) -> None:
        self.context = context
        self.settings = context.settings or get_settings()

    def record(
        self, *, tool: str, arguments: Any, outcome: str, client: str, reason: str = ""
    ) -> None:
        """Append the record; raises :class:`AuditError` when it cannot be written."""
        from genesis_lab.catalog.remote import service_configured

        body = {
            "tool": tool,
            "arguments_sha256": arguments_digest(arguments),
            "outcome": outcome,
            "client": client[:200],
            "token_note": self.context.token_note[:200],
            "reason": reason[:500],
        }
        if service_configured(self.settings):
            self._post(body)
            return
        from genesis_lab.access.audit import audit_log

        audit_log(self.settings).append(
            event_type=EVENT_TYPE,
            where="genesis-lab mcp",
            source=client[:200] or "-",
            outcome=outcome,
            identity=self.context.user,
            reason=reason[:500],
            tool=tool,
            arguments_sha256=body["arguments_sha256"],
            client=body["client"],
            token_note=body["token_note"],
        )

    def _post(self, body: dict[str, Any]) -> None:
        from genesis_lab.catalog.remote import _request  # the SDK's one call to the service

        status, answer = _request(self.settings, "api/audit/agent", method="POST", body=body)
        if status != 201:
            raise AuditError(
                f"the genesis service did not record the agent's call ({status}: "
                f"{answer.get('message', answer) if isinstance(answer, dict) else answer})"
            )
