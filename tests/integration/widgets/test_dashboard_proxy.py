"""The dask dashboard is proxied by jupyter-server-proxy behind the server's authentication.

jupyter-server-proxy >= 4.2 carries the fixes for GHSA-w3vc-fx9p-wp4v (unauthenticated
websockets) and GHSA-fvcq-4x64-hqxr (XSS on the proxied path); pyproject pins >=4.4.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from importlib.metadata import version

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

pytestmark = [pytest.mark.slow]


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_release_carries_the_advisory_fixes():
    major, minor = (int(x) for x in version("jupyter-server-proxy").split(".")[:2])
    assert (major, minor) >= (4, 2)


def test_anonymous_request_to_proxied_dashboard_is_refused(lab_server, dashboard_port):
    url = f"{lab_server.url}/proxy/{dashboard_port}/status"
    assert _get(url) in (302, 403)
    assert _get(url, {"Authorization": "token forged-token"}) in (302, 403)
    assert _get(url, {"Authorization": f"token {lab_server.token}"}) == 200


def test_anonymous_websocket_to_proxied_dashboard_is_refused(lab_server, dashboard_port):
    ws_url = lab_server.url.replace("http://", "ws://") + f"/proxy/{dashboard_port}/status/ws"

    async def attempt(headers):
        conn = await websocket_connect(HTTPRequest(ws_url, headers=headers, connect_timeout=20))
        conn.close()

    for headers in ({}, {"Authorization": "token forged-token"}):
        with pytest.raises(HTTPClientError) as info:
            asyncio.run(attempt(headers))
        assert info.value.code in (302, 403)
    asyncio.run(attempt({"Authorization": f"token {lab_server.token}"}))  # the owner gets in
