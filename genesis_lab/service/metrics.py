"""Prometheus metrics of the genesis service, served at ``<prefix>metrics`` to admins and to
tokens with the ``read:metrics`` scope: requests by kind and status, their latency, audit records.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["AUDIT_RECORDS", "REQUESTS", "REQUEST_SECONDS"]

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
