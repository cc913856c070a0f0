"""Failure notices to a schedule's owner: email through the configured SMTP server, or a webhook.

Configured in the ``notifications`` section of the settings (site file).
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from genesis_lab.errors import PipelineError
from genesis_lab.settings import Settings, get_settings

__all__ = ["notify_owner"]


def _recipient(owner: str, target: str | None, conf: dict[str, Any]) -> str | None:
    if target and "@" in target:
        return target
    emails = conf.get("emails") or {}
    if owner in emails:
        return emails[owner]
    domain = conf.get("email_domain")
    return f"{owner}@{domain}" if domain else None


def notify_owner(
    owner: str,
    subject: str,
    body: dict[str, Any],
    *,
    target: str | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """Send ``subject``/``body`` to ``owner`` by every configured channel; returns where it went.

    ``target`` (a schedule's ``notify``) is an email address or webhook URL that takes precedence.

    Site file::

        notifications:
          smtp: {host: 127.0.0.1, port: 25, sender: genesis@site, starttls: false}
          email_domain: site.example
          webhook: {url: https://hooks.example/genesis}
    """
    conf = (settings or get_settings()).notifications
    sent: list[str] = []
    smtp = conf.get("smtp") or {}
    rcpt = _recipient(owner, target, conf)
    if smtp.get("host") and rcpt:
        msg = EmailMessage()
        msg["From"] = smtp.get("sender", "genesis-lab@localhost")
        msg["To"] = rcpt
        msg["Subject"] = subject
        msg.set_content(json.dumps(body, indent=2, default=str))
        try:
            with smtplib.SMTP(smtp["host"], int(smtp.get("port", 25)), timeout=15) as server:
                if smtp.get("starttls"):
                    server.starttls()
                if smtp.get("username"):
                    server.login(smtp["username"], smtp.get("password", ""))
                server.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise PipelineError(
                f"cannot send the notice to {rcpt} via {smtp['host']}: {exc}"
            ) from exc
        sent.append(f"mailto:{rcpt}")
    url = target if target and target.startswith(("http://", "https://")) else None
    url = url or (conf.get("webhook") or {}).get("url")
    if url:
        data = json.dumps({"owner": owner, "subject": subject, **body}, default=str).encode()
        req = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                resp.read()
        except OSError as exc:
            raise PipelineError(f"cannot POST the notice to {url}: {exc}") from exc
        sent.append(url)
    return sent
