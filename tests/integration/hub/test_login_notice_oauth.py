"""The system-use notice (AC-8) with ``hub.authenticator: oauth``: a real hub signing users in
through a stand-in OAuth 2 provider on 127.0.0.1. The login page shows the notice before the
provider's button (disabled until the box is ticked), ``/hub/oauth_login`` refuses to send the
browser to the provider without the acknowledgement, the genesis service audits each
acknowledged login in the user's name, and only users the admin added get in (a provider's
sign-in is not vetting). One hub of its own for the module."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from fixtures.browser import screenshot
from fixtures.hub import RunningHub, _shutdown, hub_base, start_hub
from fixtures.notice import assert_audited_once, notice_records

from genesis_lab.hub.notice import ACK_FIELD, DEFAULT_NOTICE, NOT_ACKNOWLEDGED, paragraphs

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(240)]

CLIENT_ID = "genesis-hub-test"
PROVIDER = "Stand-in IdP"


class StandInIdP:
    """An OAuth 2 provider: ``/authorize`` sends the browser back with a code for :attr:`user`,
    ``/token`` checks the client's secret and the PKCE verifier, ``/userinfo`` names the user.
    :attr:`authorized` lists the authorization requests that reached it."""

    def __init__(self, client_secret: str):
        self.client_secret = client_secret
        self.user = ""
        self.authorized: list[dict[str, str]] = []
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (PKCE challenge, user)
        self._tokens: dict[str, str] = {}  # access token -> user
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: dict | None = None, location: str = "") -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/authorize":
                    args = {k: v[0] for k, v in parse_qs(url.query).items()}
                    idp.authorized.append(args)
                    if args.get("client_id") != CLIENT_ID:
                        return self._send(400, {"error": "unknown client"})
                    code = secrets.token_urlsafe(16)
                    idp._codes[code] = (args["code_challenge"], idp.user)
                    back = urlencode({"code": code, "state": args["state"]})
                    return self._send(302, location=f"{args['redirect_uri']}?{back}")
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in idp._tokens:
                        return self._send(401, {"error": "invalid_token"})
                    return self._send(200, {"username": idp._tokens[token]})
                return self._send(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/token" or form.get("client_secret") != idp.client_secret:
                    return self._send(401, {"error": "invalid_client"})
                challenge, user = idp._codes.pop(form.get("code", ""), ("", ""))
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if (
                    not challenge
                    or base64.urlsafe_b64encode(digest).rstrip(b"=") != challenge.encode()
                ):
                    return self._send(400, {"error": "invalid_grant"})
                token = secrets.token_urlsafe(16)
                idp._tokens[token] = user
                return self._send(200, {"access_token": token, "token_type": "Bearer"})

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def oauth(tmp_path_factory) -> Iterator[tuple[RunningHub, StandInIdP]]:
    """A hub with ``hub.authenticator: oauth`` (generic provider) against :class:`StandInIdP`;
    its ``admin`` signed in through the provider (the fixtures' admin browser)."""
    secret = tmp_path_factory.mktemp("oauth") / "client-secret"
    secret.write_text(secrets.token_urlsafe(24) + "\n")
    idp = StandInIdP(secret.read_text().strip())
    base = hub_base("oauth-hub")
    oauth_site = {"provider": "generic", "client_id": CLIENT_ID, "client_secret_file": str(secret),
                  "authorize_url": f"{idp.url}/authorize", "token_url": f"{idp.url}/token",
                  "userdata_url": f"{idp.url}/userinfo", "username_claim": "username",
                  "scope": ["openid"], "login_service": PROVIDER}  # fmt: skip
    hub = start_hub(base, extra_hub={"authenticator": "oauth", "oauth": oauth_site})
    try:
        admin = sign_in(hub, idp, hub.admin_user)
        assert "jupyterhub-hub-login" in admin.cookies, admin.login_response.text[-1500:]
        hub._admin_browser = admin
        yield hub, idp
    finally:
        _shutdown(hub)
        idp.close()
        shutil.rmtree(base, ignore_errors=True)


def sign_in(hub: RunningHub, idp: StandInIdP, name: str, **form: str) -> requests.Session:
    """A requests session after the login page's form went to ``/hub/oauth_login`` with
    ``form`` (the acknowledgement ticked unless given) and every redirect was followed."""
    idp.user = name
    s = hub.new_session()
    s.get(f"{hub.url}/hub/login", timeout=30).raise_for_status()
    params = {ACK_FIELD: "yes", "next": "/hub/home", **form}
    s.login_response = s.get(f"{hub.url}/hub/oauth_login", params=params, timeout=60)  # type: ignore[attr-defined]
    return s


def test_the_login_page_shows_the_notice_before_the_providers_button(oauth):
    hub, _ = oauth
    page = hub.new_session().get(f"{hub.url}/hub/login?next=/hub/token", timeout=30).text
    text = " ".join(html.unescape(page).split())
    assert all(p in text for p in paragraphs(DEFAULT_NOTICE))  # the site's notice, whole
    form = page[page.index('id="genesis-oauth-login"') : page.index("</form>")]
    assert page.index('id="genesis-notice"') < page.index('id="genesis-oauth-login"')
    assert 'action="/hub/oauth_login"' in page and 'method="get"' in form
    assert f'name="{ACK_FIELD}"' in form and 'name="next" value="/hub/token"' in form
    button = form[form.index("<button") : form.index("</button>")]
    assert " disabled" in button and f"Sign in with {PROVIDER}" in button
    assert 'name="password"' not in page


def test_the_provider_is_reached_only_after_the_acknowledgement_which_is_audited(oauth):
    hub, idp = oauth
    name = f"oa{int(time.time() * 1000) % 10**8}"
    reached = len(idp.authorized)
    for form in ({ACK_FIELD: ""}, {ACK_FIELD: "off"}):
        refused = sign_in(hub, idp, name, **form)
        assert refused.login_response.status_code == 403
        assert not refused.login_response.history  # no redirect at all
        assert NOT_ACKNOWLEDGED in html.unescape(refused.login_response.text)
        assert 'id="genesis-notice"' in refused.login_response.text  # the page again
        assert "jupyterhub-hub-login" not in refused.cookies
    assert len(idp.authorized) == reached  # the browser was never sent to the provider
    admin = hub.ensure_admin_token()
    assert hub.api("GET", f"/users/{name}", admin).status_code == 404  # nobody signed in
    assert notice_records(hub, name) == []

    stranger = sign_in(hub, idp, name)  # the provider knows them; the admin never added them
    assert stranger.login_response.status_code == 403
    assert "jupyterhub-hub-login" not in stranger.cookies
    assert hub.api("GET", f"/users/{name}", admin).status_code == 404
    assert hub.api("POST", f"/users/{name}", admin).status_code == 201

    before = time.time()
    signed_in = sign_in(hub, idp, name)
    assert "jupyterhub-hub-login" in signed_in.cookies, signed_in.login_response.text[-1500:]
    assert len(idp.authorized) == reached + 2  # the stranger and then the added user
    assert urlsplit(signed_in.login_response.url).path == "/hub/home"
    assert hub.api("GET", f"/users/{name}", admin).status_code == 200
    assert_audited_once(hub, name, since=before)


@pytest.mark.browser
def test_the_button_waits_for_the_box_in_a_browser(oauth, page):
    hub, idp = oauth
    idp.user = name = f"ob{int(time.time() * 1000) % 10**8}"
    assert hub.api("POST", f"/users/{name}", hub.ensure_admin_token()).status_code == 201
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login?next=/hub/home")
    notice, button = page.locator("#genesis-notice"), page.locator("#genesis-oauth-submit")
    box = page.locator("#genesis-notice-ack")
    assert notice.is_visible() and button.is_visible() and box.is_visible()
    notice_box, button_box = notice.bounding_box(), button.bounding_box()
    assert notice_box and button_box and notice_box["y"] + notice_box["height"] <= button_box["y"]
    assert button.is_disabled() and not box.is_checked()
    screenshot(page, "hub-oauth-login-notice")
    page.check("#genesis-notice-ack")
    assert button.is_enabled()
    page.uncheck("#genesis-notice-ack")
    assert button.is_disabled()
    page.check("#genesis-notice-ack")
    before = time.time()
    button.click()
    page.wait_for_function("!location.pathname.endsWith('/hub/login')")
    assert urlsplit(page.url).path == "/hub/home", page.url
    assert_audited_once(hub, name, since=before)
