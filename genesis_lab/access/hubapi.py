"""The hub's REST API as genesis-lab's command line and courses call it, with a token, and the one
JSON request with a hub token that it shares with the clients of the hub's services.

Errors carry the HTTP status, so callers can treat "already exists" or "no such user" as answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from genesis_lab.errors import AccessDeniedError, GenesisError

__all__ = [
    "AGENT_SCOPE",
    "HubAPIError",
    "HubAccessDenied",
    "HubClient",
    "TokenRequestError",
    "join_url",
    "token_request",
]

AGENT_SCOPE = "custom:genesis-agent:use"
"""The hub scope a token needs to reach a user's MCP endpoint (``<server>/genesis/mcp``)."""


class TokenRequestError(GenesisError):
    """A server answered ``status`` with ``detail`` (its JSON ``message``, else the start of its
    body), or nothing answered (``status`` None, ``detail`` the reason). Callers say which server
    it was and how to fix it."""

    def __init__(self, status: int | None, detail: str):
        super().__init__(f"{status or 'no answer'}: {detail}")
        self.status = status
        self.detail = detail


def join_url(base: str, path: str) -> str:
    """``path`` under ``base``, with exactly one slash between them.

    >>> join_url("http://127.0.0.1:8081/services/genesis/", "/api/usage")
    'http://127.0.0.1:8081/services/genesis/api/usage'
    """
    return base.rstrip("/") + "/" + path.lstrip("/")


def token_request(
    url: str, token: str, method: str = "GET", body: Any = None, *, timeout: float = 30.0
) -> Any:
    """Send ``body`` (as JSON) to ``url`` with ``Authorization: token ...``; the decoded JSON
    answer (``{}`` when empty). Raises :class:`TokenRequestError` for an error status or when
    nothing answers within ``timeout`` seconds.

    >>> try:
    ...     token_request("http://127.0.0.1:1/hub/api/user", "not-a-token")
    ... except TokenRequestError as exc:
    ...     exc.status is None
    True
    """
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"token {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            detail = exc.read().decode(errors="replace")
        try:
            message = json.loads(detail).get("message", detail)
        except (ValueError, AttributeError):
            message = detail[:300]
        raise TokenRequestError(exc.code, str(message)) from None
    except OSError as exc:
        raise TokenRequestError(None, str(exc)) from None
    return json.loads(text) if text else {}


class HubAPIError(GenesisError):
    """The hub answered with an error (``status``), or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class HubAccessDenied(HubAPIError, AccessDeniedError):
    """The hub refused the token (403)."""


@dataclass
class HubClient:
    """The hub's REST API (``http://127.0.0.1:8000/hub/api``) with a token.

    >>> HubClient("http://127.0.0.1:8000/hub/api/", "t").url("/users/alice")
    'http://127.0.0.1:8000/hub/api/users/alice'
    """

    api_url: str
    token: str

    def url(self, path: str) -> str:
        return join_url(self.api_url, path)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """``method path`` on the hub's API with this token; the decoded JSON answer."""
        try:
            return token_request(self.url(path), self.token, method, body)
        except TokenRequestError as exc:
            if exc.status is None:
                raise HubAPIError(f"Cannot reach the hub at {self.api_url}: {exc.detail}") from None
            if exc.status == 403:
                raise HubAccessDenied(
                    f"The hub refused {method} {path}: {exc.detail}. Use a token whose scopes "
                    "allow it (an admin's, or a clearance officer's for clearances).",
                    403,
                ) from None
            raise HubAPIError(
                f"The hub answered {exc.status} to {method} {path}: {exc.detail}", exc.status
            ) from None

    def whoami(self) -> dict[str, Any]:
        """The token's owner and scopes (``GET /user``), with ``token_id``."""
        return self.call("GET", "/user")

    def tokens(self, user: str) -> list[dict[str, Any]]:
        """The API tokens of ``user`` (id, note, scopes, created; never the secret)."""
        return list(self.call("GET", f"/users/{user}/tokens").get("api_tokens", []))

    def delete_token(self, user: str, token_id: str) -> None:
        """Revoke one of ``user``'s tokens by its id (``a12``)."""
        self.call("DELETE", f"/users/{user}/tokens/{token_id}")
