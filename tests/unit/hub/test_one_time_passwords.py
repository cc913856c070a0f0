"""One-time passwords: ``reset-password`` marks and audits the password it issues, the mark ends
with any change of the stored hash, and the gate sends only cookie-signed-in holders to the
change page (API tokens pass)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import bcrypt
import pytest
import sqlalchemy as sa
import yaml

from genesis_lab.access.audit import verify
from genesis_lab.hub.config import hub_plan
from genesis_lab.hub.password_pages import OneTimeGate
from genesis_lab.hub.passwords import (
    ISSUED_AT_RESET,
    ONE_TIME,
    account_audit_path,
    holds_one_time,
    mark_one_time,
    reset_password,
)
from genesis_lab.settings import reset_settings


@pytest.fixture
def plan(genesis_home, monkeypatch):
    site = genesis_home / "site.yaml"
    site.write_text(yaml.safe_dump({"hub": {"admin_users": ["root-admin", "second"]}}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    found = hub_plan()
    found.state_dir.mkdir(parents=True, exist_ok=True)
    return found


def _users(plan):
    from nativeauthenticator.orm import UserInfo

    return sa.create_engine(plan.db_url), UserInfo.__table__


def test_reset_password_marks_the_password_one_time_and_audits_the_issue(plan):
    name, password = reset_password(plan, "second")
    engine, users = _users(plan)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password).where(users.c.username == name)).one()[0]
        mark = conn.execute(sa.select(ONE_TIME)).one()._asdict()
        assert holds_one_time(conn, name)
        assert not holds_one_time(conn, "root-admin")  # no password issued to them
    engine.dispose()
    assert bcrypt.checkpw(password.encode(), stored)
    assert mark["username"] == "second" and mark["issued_by"] == ISSUED_AT_RESET
    assert mark["password_sha256"] == hashlib.sha256(bytes(stored)).hexdigest()
    log = account_audit_path(plan)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["event_type"], r["identity"], r["outcome"]) for r in records] == [
        ("account.password-issued", "second", "success")
    ]
    assert password not in log.read_text() and password.encode() not in plan.state_dir.joinpath(
        "jupyterhub.sqlite").read_bytes()  # fmt: skip
    assert verify(log).ok


def test_the_mark_ends_with_any_change_of_the_stored_hash(plan):
    name, _ = reset_password(plan)
    assert name == "root-admin"  # the first admin by default
    engine, users = _users(plan)
    own = bcrypt.hashpw(b"a password of my own", bcrypt.gensalt(4))
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == name).values(password=own))
        assert not holds_one_time(conn, name)
        mark_one_time(conn, name, own, ISSUED_AT_RESET)  # marking again replaces the old mark
        assert holds_one_time(conn, name)
        assert conn.execute(sa.select(sa.func.count()).select_from(ONE_TIME)).scalar() == 1
        mark_one_time(conn, "nobody", own, ISSUED_AT_RESET)  # no such user: nothing to hold
        assert not holds_one_time(conn, "nobody")
    engine.dispose()


class _Base:
    async def prepare(self) -> None:
        self.prepared = True


class _Page(OneTimeGate, _Base):
    """A hub page handler as far as the gate sees it."""

    def __init__(self, user, *, token: bool = False, marked=()):
        self._finished = False
        self._token_authenticated = token
        self.current_user = user
        self.hub = SimpleNamespace(base_url="/hub/")
        self.request = SimpleNamespace(uri="/hub/spawn?opt-allocation=open-local")
        self.authenticator = SimpleNamespace(holds_one_time_password=lambda n: n in marked)
        self.redirected = None

    def redirect(self, url: str) -> None:
        self.redirected = url


@pytest.mark.parametrize(
    ("user", "token", "sent"),
    [
        ("ada", False, True),  # signed in by cookie, one-time password: to the change page
        ("ada", True, False),  # the same user with an API token: untouched
        ("bob", False, False),  # a password of their own
        (None, False, False),  # nobody signed in: the page's own rules (login)
    ],
)
def test_the_gate_sends_only_cookie_holders_of_a_one_time_password(user, token, sent):
    page = _Page(SimpleNamespace(name=user) if user else None, token=token, marked={"ada"})
    asyncio.run(page.prepare())
    assert page.prepared
    if not sent:
        assert page.redirected is None
        return
    where = urlsplit(page.redirected)
    assert where.path == "/hub/change-password"
    assert parse_qs(where.query) == {"next": [page.request.uri]}
