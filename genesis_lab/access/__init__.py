"""Access control: policy decisions over clearances, and the tamper-evident audit log.

>>> from genesis_lab.access import decide, Identity
"""

from genesis_lab.access.audit import AuditLog, VerifyReport, audit_log, query, verify
from genesis_lab.access.policy import Decision, Identity, decide, identity_from_hub_model

__all__ = [
    "AuditLog",
    "Decision",
    "Identity",
    "VerifyReport",
    "audit_log",
    "decide",
    "identity_from_hub_model",
    "query",
    "verify",
]
