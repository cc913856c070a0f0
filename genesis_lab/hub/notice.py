"""The system-use notice shown before sign-in and sign-up (NIST SP 800-53 AC-8), and its record.

The user ticks an acknowledgement; the hub refuses a login or sign-up posted without it, and after
a login asks the genesis service to write the acknowledgement into the audit log, in the user's
own name (a short-lived token of theirs, revoked at once: the hub never writes that log itself).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACK_FIELD",
    "DEFAULT_NOTICE",
    "NOT_ACKNOWLEDGED",
    "acknowledged",
    "paragraphs",
    "record_acknowledgement",
]

ACK_FIELD = "genesis_notice_ack"
"""Name of the acknowledgement checkbox in the login and sign-up forms."""

DEFAULT_NOTICE = (
    "You are accessing a U.S. Government information system, which includes this computer, "
    "this network, all computers connected to this network, and all devices and storage media "
    "attached to this network or to a computer on this network. This information system is "
    "provided for U.S. Government-authorized use only.\n\n"
    "Unauthorized or improper use of this system may result in disciplinary action, as well as "
    "civil and criminal penalties.\n\n"
    "By using this information system, you understand and consent to the following: you have "
    "no reasonable expectation of privacy regarding any communication or data transiting or "
    "stored on this information system; at any time, and for any lawful Government purpose, "
    "the Government may monitor, intercept, and search and seize any communication or data "
    "transiting or stored on this information system; any communication or data transiting or "
    "stored on this information system may be disclosed or used for any lawful Government "
    "purpose."
)
"""The programme's default notice (the site file's ``hub.login_banner`` replaces it)."""

NOT_ACKNOWLEDGED = (
    "Acknowledge the system-use notice (tick the box under it) before signing in or signing up."
)


def acknowledged(form: dict[str, Any]) -> bool:
    """Whether a posted form carries the ticked acknowledgement.

    >>> acknowledged({ACK_FIELD: "on"}), acknowledged({ACK_FIELD: ""}), acknowledged({})
    (True, False, False)
    """
    value = form.get(ACK_FIELD)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return bool(value) and str(value).strip().lower() not in ("", "0", "off", "false")


def paragraphs(text: str) -> list[str]:
    """The notice's paragraphs (separated by blank lines), for the page.

    >>> paragraphs("One.\\n\\nTwo\\nlines.")
    ['One.', 'Two lines.']
    """
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


async def record_acknowledgement(
    user: Any, service: Any, *, source: str = "", timeout: float = 10.0
) -> None:
    """Ask the genesis ``service`` (the hub's service object) to audit ``user``'s acknowledgement.

    The request carries a token of the user limited to the service and revoked afterwards, so
    the record's identity is the service's authenticated caller, as for every other record.
    Raises :class:`tornado.httpclient.HTTPClientError` or ``OSError`` when the service fails.
    """
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    scope = f"access:services!service={service.name}"
    token = user.new_api_token(
        note="system-use notice acknowledgement", expires_in=300, scopes=[scope]
    )
    url = f"{service.url.rstrip('/')}{service.prefix}api/audit/notice"
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    if source:
        headers["X-Forwarded-For"] = source
    try:
        await AsyncHTTPClient().fetch(HTTPRequest(url, method="POST", headers=headers,
                                                  body="{}", request_timeout=timeout))  # fmt: skip
    finally:
        _revoke(user, token)


def _revoke(user: Any, token: str) -> None:
    from jupyterhub import orm

    db = user.db
    found = orm.APIToken.find(db, token)
    if found is not None:
        db.delete(found)
        db.commit()
