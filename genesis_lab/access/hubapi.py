"""The hub's REST API as genesis-lab's command line and courses call it, with a token.

Errors carry the HTTP status, so callers can treat "already exists" or "no such user" as answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from genesis_lab.errors import AccessDeniedError, GenesisError

__all__ = ["AGENT_SCOPE", "HubAPIError", "HubAccessDenied", "HubClient"]

AGENT_SCOPE = "custom:genesis-agent:use"
"""The hub scope a token needs to reach a user's MCP endpoint (``<server>/genesis/mcp``)."""


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
        return self.api_url.rstrip("/") + path

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url(path), data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read().decode(errors="replace")
            try:
                message = json.loads(detail).get("message", detail)
            except ValueError:
                message = detail[:300]
            if exc.code == 403:
                raise HubAccessDenied(
                    f"The hub refused {method} {path}: {message}. Use a token whose scopes allow "
                    "it (an admin's, or a clearance officer's for clearances).",
                    403,
                ) from None
            raise HubAPIError(
                f"The hub answered {exc.code} to {method} {path}: {message}", exc.code
            ) from None
        except OSError as exc:
            raise HubAPIError(f"Cannot reach the hub at {self.api_url}: {exc}") from None
        return json.loads(text) if text else {}

    def whoami(self) -> dict[str, Any]:
        """The token's owner and scopes (``GET /user``), with ``token_id``."""
        return self.call("GET", "/user")

    def tokens(self, user: str) -> list[dict[str, Any]]:
        """The API tokens of ``user`` (id, note, scopes, created; never the secret)."""
        return list(self.call("GET", f"/users/{user}/tokens").get("api_tokens", []))

    def delete_token(self, user: str, token_id: str) -> None:
        """Revoke one of ``user``'s tokens by its id (``a12``)."""
        self.call("DELETE", f"/users/{user}/tokens/{token_id}")
