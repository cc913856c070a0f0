"""The service's token lookups: fresh from the hub for every request, except the agent audit
endpoint, which reuses the hub's positive answer for ``token_cache_seconds`` (never a refusal).

The real service application and its ``FreshHubOAuth``, in front of a stand-in hub that answers
``GET /hub/api/user`` from its own token table and counts the lookups.
"""

from __future__ import annotations

import asyncio
import json

from fixtures.net import listen
from tornado import httpclient, web

SCOPE = "access:services!service=genesis"
AUDIT = "api/audit/agent"
BODY = {"tool": "catalog_search", "arguments_sha256": "0" * 64, "outcome": "success",
        "client": "c", "token_note": "", "reason": ""}  # fmt: skip


class StandInHub(web.RequestHandler):
    """``GET /hub/api/user``: the model of the token's owner (403 for a token it does not know)."""

    def initialize(self, tokens: dict[str, str], lookups: list[str]) -> None:
        self.tokens, self.lookups = tokens, lookups

    def get(self) -> None:
        token = self.request.headers.get("Authorization", "").split(" ", 1)[-1]
        self.lookups.append(token)
        if token not in self.tokens:
            raise web.HTTPError(403)
        name = self.tokens[token]
        self.finish(json.dumps({"kind": "user", "name": name, "admin": False,
                                "groups": ["vetted"], "scopes": [SCOPE]}))  # fmt: skip


def _run(tmp_path, scenario) -> None:
    from genesis_lab.service.app import make_app
    from genesis_lab.service.auth import make_hub_auth
    from genesis_lab.settings import load_settings

    async def main() -> None:
        tokens = {"t-ada": "ada"}
        lookups: list[str] = []
        hub, hub_port = listen(
            web.Application(
                [(r"/hub/api/user", StandInHub, {"tokens": tokens, "lookups": lookups})]
            )
        )
        settings = load_settings(home=tmp_path)
        settings = settings.model_copy(
            update={"hub_api_url": f"http://127.0.0.1:{hub_port}/hub/api", "hub_api_token": "svc"}
        )
        app = make_app(settings, hub_auth=make_hub_auth(settings, access_scopes={SCOPE}))
        service, port = listen(app)
        client = httpclient.AsyncHTTPClient(force_instance=True)

        async def call(path: str, token: str) -> int:
            method, body = ("POST", json.dumps(BODY)) if path == AUDIT else ("GET", None)
            response = await client.fetch(
                f"http://127.0.0.1:{port}/services/genesis/{path}", method=method, body=body,
                headers={"Authorization": f"token {token}"}, raise_error=False,
            )  # fmt: skip
            return response.code

        try:
            await scenario(call, tokens, lookups)
        finally:
            client.close()
            service.stop()
            hub.stop()
            await app.settings["genesis_state"].guard.close()

    asyncio.run(main())


def test_the_audit_endpoint_reuses_the_hubs_answer_and_the_catalog_never(tmp_path) -> None:
    async def scenario(call, tokens, lookups) -> None:
        assert [await call(AUDIT, "t-ada") for _ in range(5)] == [201] * 5
        assert lookups == ["t-ada"]
        assert [await call("api/catalog", "t-ada") for _ in range(3)] == [200] * 3
        assert lookups == ["t-ada"] * 4
        del tokens["t-ada"]  # revoked at the hub
        assert await call("api/catalog", "t-ada") == 401  # data: the next request knows
        assert await call(AUDIT, "t-ada") == 201  # the audit record: within the cache age

    _run(tmp_path, scenario)


def test_an_unknown_token_is_asked_about_every_time(tmp_path) -> None:
    async def scenario(call, tokens, lookups) -> None:
        assert [await call(AUDIT, "t-new") for _ in range(3)] == [401] * 3
        assert lookups == ["t-new"] * 3
        tokens["t-new"] = "bob"  # made at the hub: good at once
        assert await call(AUDIT, "t-new") == 201

    _run(tmp_path, scenario)


def test_the_hubs_answer_expires_after_token_cache_seconds(tmp_path, monkeypatch) -> None:
    from genesis_lab.service.handlers import AgentAuditHandler

    monkeypatch.setattr(AgentAuditHandler, "token_cache_seconds", 0.3)

    async def scenario(call, tokens, lookups) -> None:
        assert await call(AUDIT, "t-ada") == 201
        del tokens["t-ada"]
        assert await call(AUDIT, "t-ada") == 201
        await asyncio.sleep(0.4)
        assert await call(AUDIT, "t-ada") == 401
        assert len(lookups) == 2

    _run(tmp_path, scenario)


def test_no_cache_age_means_fresh_lookups(tmp_path, monkeypatch) -> None:
    from genesis_lab.service.handlers import AgentAuditHandler

    monkeypatch.setattr(AgentAuditHandler, "token_cache_seconds", 0)

    async def scenario(call, tokens, lookups) -> None:
        for _ in range(3):
            assert await call(AUDIT, "t-ada") == 201
        assert lookups == ["t-ada"] * 3

    _run(tmp_path, scenario)
