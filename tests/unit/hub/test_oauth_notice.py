"""``hub.authenticator: oauth`` as the shipped ``jupyterhub_config.py`` sets it up: the chosen
authenticator puts the site's system-use notice in front of the identity provider."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from oauthenticator.cilogon import CILogonLoginHandler
from oauthenticator.oauth2 import OAuthCallbackHandler, OAuthLoginHandler
from traitlets.config.loader import PyFileConfigLoader

from genesis_lab.hub.authenticator import GenesisAuthenticator
from genesis_lab.hub.notice_gate import NoticeGate
from genesis_lab.settings import reset_settings

CONFIG = Path(__file__).resolve().parents[3] / "hub_config" / "jupyterhub_config.py"
BANNER = "Lab 7 systems are for approved research only.\n\nActivity is logged."


def hub_config(tmp_path, monkeypatch, hub: dict):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"hub": {"login_banner": BANNER, **hub}}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


@pytest.mark.parametrize(("provider", "login_base"),
                         [("cilogon", CILogonLoginHandler), ("generic", OAuthLoginHandler)])  # fmt: skip
def test_the_oauth_authenticator_shows_the_sites_notice_first(
    tmp_path, monkeypatch, provider, login_base
):
    oauth = {"provider": provider, **(GENERIC if provider == "generic" else {})}
    config = hub_config(tmp_path, monkeypatch, {"authenticator": "oauth", "oauth": oauth})
    (point,) = entry_points(group="jupyterhub.authenticators",
                            name=config.JupyterHub.authenticator_class)  # fmt: skip
    auth = point.load()(config=config)
    assert auth.notice_context()["genesis_notice"] == BANNER.split("\n\n")
    handlers = dict(auth.get_handlers(None))
    assert issubclass(handlers["/login"], NoticeGate)
    assert issubclass(handlers["/oauth_login"], NoticeGate)
    assert issubclass(handlers["/oauth_login"], login_base)  # the provider's own redirect
    assert issubclass(handlers["/oauth_callback"], NoticeGate)
    assert issubclass(handlers["/oauth_callback"], OAuthCallbackHandler)


GENERIC = {"authorize_url": "https://idp.example.org/authorize",
           "token_url": "https://idp.example.org/token",
           "userdata_url": "https://idp.example.org/userinfo"}  # fmt: skip


def test_a_generic_provider_is_configured_from_the_site_file(tmp_path, monkeypatch):
    site = {**GENERIC, "provider": "generic", "username_claim": "email", "scope": ["openid"],
            "login_service": "Example Lab"}  # fmt: skip
    config = hub_config(tmp_path, monkeypatch, {"authenticator": "oauth", "oauth": site})
    (point,) = entry_points(group="jupyterhub.authenticators",
                            name=config.JupyterHub.authenticator_class)  # fmt: skip
    auth = point.load()(config=config)
    got = {k: getattr(auth, k) for k in site if k != "provider"}
    assert got == {k: v for k, v in site.items() if k != "provider"}


def test_a_generic_provider_without_its_endpoints_is_refused_naming_them(tmp_path, monkeypatch):
    from genesis_lab.errors import SettingsError

    oauth = {"provider": "generic", "authorize_url": GENERIC["authorize_url"]}
    with pytest.raises(SettingsError) as err:
        hub_config(tmp_path, monkeypatch, {"authenticator": "oauth", "oauth": oauth})
    assert "oauth.token_url, oauth.userdata_url" in str(err.value)
    assert "oauth.authorize_url" not in str(err.value)


def test_the_native_authenticator_takes_the_same_setting(tmp_path, monkeypatch):
    config = hub_config(tmp_path, monkeypatch, {})
    assert config.JupyterHub.authenticator_class == "genesis-native"
    assert "SystemUseNotice" in GenesisAuthenticator.section_names()
    assert config.SystemUseNotice.login_banner == BANNER
