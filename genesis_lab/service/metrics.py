"""Prometheus metrics of the genesis service, served at ``<prefix>metrics`` to admins and to
tokens with the ``read:metrics`` scope: requests by kind and status, their latency, audit records,
and AI agents' tool calls (what sessions' MCP endpoints report) by tool and outcome.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["AGENT_CALLS", "AGENT_TOOLS", "AUDIT_RECORDS", "REQUESTS", "REQUEST_SECONDS"]

REQUESTS = Counter(
    "genesis_service_requests",
    "Requests answered, by kind (the audit event type) and HTTP status",
    ["kind", "status"],
)
REQUEST_SECONDS = Histogram(
    "genesis_service_request_seconds",
    "Seconds from a request's arrival to its answer, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUDIT_RECORDS = Counter("genesis_audit_records", "Audit records written, by outcome", ["outcome"])
AGENT_TOOLS = frozenset(
    [
        "catalog_search",
        "catalog_show",
        "dataset_describe",
        "simulator_describe",
        "simulator_run",
        "sweep_start",
        "campaign_start",
        "campaign_status",
        "campaign_stop",
        "challenge_list",
        "challenge_run",
        "challenge_results",
        "model_predict",
        "allocation_usage",
        "job_status",
    ]
)
"""The MCP tools' published names (issue-fixed, see :mod:`genesis_lab.mcp`): the only tool labels
the agent-call metric takes, so a caller cannot grow it without bound."""
AGENT_CALLS = Counter(
    "genesis_agent_calls", "AI agents' tool calls audited, by tool and outcome", ["tool", "outcome"]
)
