"""The one typed settings object: ``GENESIS_*`` environment variables over an optional site file.

Every module takes its configuration from :func:`get_settings`; nothing else reads the environment.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from genesis_lab.errors import SettingsError

__all__ = ["DcatSettings", "Settings", "SiteContact", "get_settings", "reset_settings"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

PathList = Annotated[list[Path], NoDecode]


def _default_home() -> Path:
    if os.geteuid() == 0 and not os.environ.get("XDG_DATA_HOME"):
        # root's platform is a site: its state sits where the accounts it creates can reach
        # their homes and the service account its data (never under /root, mode 0700)
        return Path("/var/lib/genesis-lab")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "genesis-lab"


def _default_challenge_paths() -> list[Path]:
    candidates = [PACKAGE_DIR / "_notebooks" / "challenges", REPO_DIR / "notebooks" / "challenges"]
    return [p for p in candidates if p.is_dir()][:1]


class _SiteFileSource(PydanticBaseSettingsSource):
    """Values from the YAML site file named by ``GENESIS_SITE_FILE``."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        path = os.environ.get("GENESIS_SITE_FILE")
        self.path = Path(path).expanduser() if path else None
        self.data: dict[str, Any] = {}
        if self.path is None:
            return
        if not self.path.is_file():
            raise SettingsError(
                f"GENESIS_SITE_FILE points to {str(self.path)!r}, which is not a file. "
                "Set it to the path of a site YAML file (see hub_config/site.yaml) or unset it."
            )
        try:
            loaded = yaml.safe_load(self.path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"The site file {self.path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SettingsError(f"The site file {self.path} must hold a mapping at the top level.")
        self.data = loaded
        self.data.setdefault("site_file", str(self.path))

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class SiteContact(BaseModel):
    """Who answers for the site's catalog (DCAT-US ``contactPoint``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fn: str = Field(min_length=1, description="Full name of the contact (a desk or a person).")
    has_email: str = Field(alias="hasEmail", pattern=r"^(mailto:)?[^@\s]+@[^@\s]+$")


class DcatSettings(BaseModel):
    """The ``dcat`` section of the site file: how the site's catalog is published (DCAT-US 1.1).

    Codes left empty are omitted from the export (DCAT-US requires them of federal agencies).

    >>> DcatSettings(bureau_code=["019:20"]).bureau_code
    ['019:20']
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    publisher: str | None = Field(
        None, description="Organisation publishing the catalog (and the runs' RO-Crates)."
    )
    bureau_code: list[str] = Field(
        default_factory=list, description="OMB Circular A-11 Appendix C codes, NNN:NN."
    )
    program_code: list[str] = Field(
        default_factory=list, description="Federal Program Inventory codes, NNN:NNN."
    )
    program_code_by_domain: dict[str, list[str]] = Field(
        default_factory=dict, description="Program codes of one domain, replacing program_code."
    )
    contact_point: SiteContact | None = Field(
        None, description="Replaces placeholder contacts (addresses under .invalid) of entries."
    )

    @field_validator("bureau_code")
    @classmethod
    def _bureau(cls, value: list[str]) -> list[str]:
        return _codes(value, r"\d{3}:\d{2}", "019:20")

    @field_validator("program_code")
    @classmethod
    def _program(cls, value: list[str]) -> list[str]:
        return _codes(value, r"\d{3}:\d{3}", "019:000")

    @field_validator("program_code_by_domain")
    @classmethod
    def _by_domain(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {k: _codes(v, r"\d{3}:\d{3}", "019:000") for k, v in value.items()}


class McpSettings(BaseModel):
    """The MCP endpoint for agents (``mcp`` in the site file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_value_bytes: int = Field(
        4096,
        ge=0,
        le=1_048_576,
        description="Most bytes of raw values (JSON) dataset_describe returns in one answer.",
    )


class PipelinesSettings(BaseModel):
    """Challenge pipelines (``pipelines`` in the site file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheduler_interval: float = Field(
        30, gt=0, le=3600, description="Seconds between the scheduler's looks for due schedules."
    )
    results_readable: Literal["site", "owner"] = Field(
        "site",
        description="Who reads a stored run: site (every account; leaderboards) or owner "
        "(its owner and root).",
    )
    kernel_start_timeout: int = Field(
        120,
        ge=5,
        le=3600,
        description="Seconds a run's kernel may take to start before the run fails; a busy "
        "login node can take more than a minute.",
    )


def _codes(values: list[str], pattern: str, example: str) -> list[str]:
    bad = [v for v in values if not re.fullmatch(pattern, v)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} not of the form {example!r}")
    return values


class Settings(BaseSettings):
    """Configuration of genesis-lab, read once per process.

    Precedence: keyword arguments, then ``GENESIS_*`` variables, then the site file named by
    ``GENESIS_SITE_FILE``, then defaults. Paths in lists (``GENESIS_CATALOG_PATHS``) are separated
    by ``os.pathsep``.

    >>> from genesis_lab.settings import Settings
    >>> s = Settings(home="/tmp/gl")
    >>> str(s.results_root)
    '/tmp/gl/results'
    """

    model_config = SettingsConfigDict(
        env_prefix="GENESIS_", extra="forbid", validate_default=True, populate_by_name=True
    )

    home: Path = Field(default_factory=_default_home, description="Root for per-user state.")
    data_root: Path | None = Field(None, description="Where site data files live.")
    results_root: Path | None = Field(None, description="Results store of pipeline runs.")
    state_dir: Path | None = Field(
        None, description="Ledgers, campaign stores, schedules and the audit log."
    )
    cache_dir: Path | None = Field(None, description="Caches (sweeps, derived data).")
    audit_witness_dir: Path | None = Field(
        None,
        description="The audit witness's folder (signed checkpoints, evidence): it and every "
        "folder above it must belong to root (or the hub's user), never to the service's "
        "account; state_dir/audit-witness.",
    )
    user_catalog_dir: Path | None = Field(
        None, description="Catalog folder where assets registered from sessions are written."
    )
    catalog_paths: PathList = Field(
        default_factory=list, description="Folders of site catalog YAML files."
    )
    challenge_paths: PathList = Field(
        default_factory=_default_challenge_paths,
        description="Folders holding challenges/<id>/challenge.yaml.",
    )
    service_url: str | None = Field(
        None, description="URL of the genesis service; set inside hub sessions."
    )
    allocation: str | None = Field(None, description="Id of the allocation this session charges.")
    metrics_file: Path | None = Field(
        None, description="Set by the pipeline runner for a kernel: where record_metrics writes."
    )
    user: str = Field(
        default_factory=getpass.getuser,
        validation_alias=AliasChoices("GENESIS_USER", "JUPYTERHUB_USER", "user"),
        description="Who is acting.",
    )
    hub_api_token: str | None = Field(
        None,
        validation_alias=AliasChoices("JUPYTERHUB_API_TOKEN", "hub_api_token"),
        description="Token the hub gives a session; used to call the genesis service.",
        repr=False,
    )
    hub_api_url: str | None = Field(
        None,
        validation_alias=AliasChoices("JUPYTERHUB_API_URL", "hub_api_url"),
        description="The hub's REST API URL (injected by the hub into services and sessions).",
    )
    service_prefix: str = Field(
        "/services/genesis/",
        validation_alias=AliasChoices(
            "JUPYTERHUB_SERVICE_PREFIX", "GENESIS_SERVICE_PREFIX", "service_prefix"
        ),
        description="URL prefix the genesis service is reached under through the proxy.",
    )
    service_bind_url: str | None = Field(
        None,
        validation_alias=AliasChoices("JUPYTERHUB_SERVICE_URL", "service_bind_url"),
        description="Where the genesis service listens (injected by the hub).",
    )
    vetted_group: str | None = Field(
        "vetted",
        description="Hub group of vetted (approved) users; None: every hub user is vetted.",
    )
    single_identity: bool = Field(
        False,
        description="Sessions share the service's Unix identity (a hub not run as root): the "
        "genesis service then serves public entries only. Set by the hub for its service.",
    )
    site_file: Path | None = Field(None, description="The site file these settings came from.")
    allocations: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Allocations of the site; validated by genesis_lab.compute.allocations.",
    )
    clearance_groups: dict[str, str] = Field(
        default_factory=lambda: {
            "controlled": "clearance-controlled",
            "proprietary": "clearance-proprietary",
            "export-controlled": "clearance-export-controlled",
        },
        description="Access marking -> hub group that grants it.",
    )
    hub: dict[str, Any] = Field(default_factory=dict, description="Hub section of the site file.")
    service: dict[str, Any] = Field(default_factory=dict, description="Service section.")
    pipelines: PipelinesSettings = Field(
        default_factory=PipelinesSettings, description="Challenge pipelines: scheduler, results."
    )
    notifications: dict[str, Any] = Field(default_factory=dict, description="SMTP / webhook.")
    courses: dict[str, Any] = Field(default_factory=dict, description="Training section.")
    dcat: DcatSettings = Field(
        default_factory=DcatSettings, description="DCAT-US publishing: codes, contact, publisher."
    )
    mcp: McpSettings = Field(
        default_factory=McpSettings, description="MCP endpoint for agents: answer limits."
    )
    course_storage_root: Path | None = Field(
        None, description="Per-course storage (learners' check results); state_dir/course-storage."
    )

    @field_validator("catalog_paths", "challenge_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p for p in value.split(os.pathsep) if p]
        return value

    @field_validator("vetted_group", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _derive_roots(self) -> Settings:
        self.home = self.home.expanduser()
        base = self.site_file.parent if self.site_file else Path.cwd()

        def resolve(p: Path) -> Path:
            p = p.expanduser()
            return p if p.is_absolute() else (base / p).resolve()

        self.data_root = resolve(self.data_root) if self.data_root else self.home / "data"
        self.results_root = (
            resolve(self.results_root) if self.results_root else self.home / "results"
        )
        self.state_dir = resolve(self.state_dir) if self.state_dir else self.home / "state"
        self.cache_dir = resolve(self.cache_dir) if self.cache_dir else self.home / "cache"
        self.audit_witness_dir = (
            resolve(self.audit_witness_dir)
            if self.audit_witness_dir
            else self.state_dir / "audit-witness"
        )
        self.user_catalog_dir = (
            resolve(self.user_catalog_dir) if self.user_catalog_dir else self.home / "catalog"
        )
        self.catalog_paths = [resolve(p) for p in self.catalog_paths]
        self.challenge_paths = [resolve(p) for p in self.challenge_paths]
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SiteFileSource(settings_cls))


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        env = f"GENESIS_{str(err['loc'][0]).upper()}" if err["loc"] else ""
        where = f" (environment variable {env} or key {field!r} in the site file)" if env else ""
        lines.append(f"  {field}{where}: {err['msg']}")
    return "Invalid genesis-lab settings:\n" + "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read settings now, raising :class:`~genesis_lab.errors.SettingsError` with the bad fields."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once.

    >>> from genesis_lab.settings import get_settings
    >>> get_settings().results_root.name
    'results'
    """
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings so the next :func:`get_settings` reads them again."""
    get_settings.cache_clear()
    from genesis_lab import _cache_registry

    _cache_registry.clear_all()
