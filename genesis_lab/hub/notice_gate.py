"""The system-use notice (:mod:`genesis_lab.hub.notice`) in the hub's login handlers.

:class:`SystemUseNotice` gives an authenticator the notice's settings; :class:`NoticeGate` gives
its handlers the check of the acknowledgement and the audit record. The native sign-in and
sign-up (:mod:`genesis_lab.hub.authenticator`) and the OAuth login (:mod:`genesis_lab.hub.oauth`)
share both.
"""

from __future__ import annotations

from typing import Any

from tornado.httpclient import HTTPClientError
from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from genesis_lab.hub.notice import (
    ACK_FIELD,
    DEFAULT_NOTICE,
    acknowledged,
    paragraphs,
    record_acknowledgement,
)

__all__ = ["NoticeGate", "SystemUseNotice"]


class SystemUseNotice(LoggingConfigurable):
    """Authenticator mixin: the notice shown before signing in or up, and who audits it.

    Configure it once for any authenticator that mixes it in (``c.SystemUseNotice.login_banner``).

    >>> SystemUseNotice(login_banner="One.\\n\\nTwo.").notice_context()["genesis_notice"]
    ['One.', 'Two.']
    """

    login_banner = Unicode(
        DEFAULT_NOTICE,
        help="System-use notice (NIST SP 800-53 AC-8) shown before sign-in and sign-up; users "
        "must acknowledge it. Paragraphs are separated by blank lines; empty: no notice.",
    ).tag(config=True)

    notice_service = Unicode(
        "genesis",
        help="Hub-managed service that writes each acknowledged login into its audit log; "
        "empty or not running: acknowledgements reach the hub's log only.",
    ).tag(config=True)

    def notice_context(self) -> dict[str, Any]:
        """What the login and sign-up templates need to show the notice and its checkbox."""
        return {"genesis_notice": paragraphs(self.login_banner), "notice_ack_field": ACK_FIELD}


class NoticeGate:
    """Handler mixin (a JupyterHub ``BaseHandler`` whose authenticator is a
    :class:`SystemUseNotice`): the notice on the page, the acknowledgement required, the login
    audited."""

    def with_notice(self, namespace: dict[str, Any]) -> dict[str, Any]:
        """``namespace`` for a template, plus the notice and the name of its checkbox."""
        return {**self.authenticator.notice_context(), **namespace}

    def notice_refused(self, form: dict[str, Any], action: str) -> bool:
        """True (and the response set to 403) when the notice is on and ``form`` lacks its
        acknowledgement; the caller then renders its page with
        :data:`~genesis_lab.hub.notice.NOT_ACKNOWLEDGED`."""
        if not self.authenticator.login_banner or acknowledged(form):
            return False
        self.log.warning("%s of %r refused: system-use notice not acknowledged",
                         action, form.get("username", ""))  # fmt: skip
        self.set_status(403)
        return True

    async def record_notice(self, user: Any) -> None:
        """Audit ``user``'s acknowledgement through the notice service, once they are signed in.

        The login stands when the service fails (the notice was acknowledged): the gap is in the
        hub's log, beside the line that says the notice was acknowledged.
        """
        if not self.authenticator.login_banner:
            return
        name = self.authenticator.notice_service
        self.log.info("%s acknowledged the system-use notice at login", user.name)
        service = self.services.get(name) if name else None
        if service is None or not service.url:
            return
        try:
            await record_acknowledgement(user, service, source=self.request.remote_ip or "")
        except (HTTPClientError, OSError) as exc:
            self.log.error("The %s service did not audit %s's acknowledgement: %s",
                           name, user.name, exc)  # fmt: skip
