"""The genesis service as JupyterHub configuration: the service, roles and custom scopes.

In ``jupyterhub_config.py``: ``c.JupyterHub.services.append(genesis_service(port=...))``,
``c.JupyterHub.load_roles += genesis_roles()``, ``c.JupyterHub.custom_scopes = genesis_custom_scopes()``.
"""

from __future__ import annotations

import os
from typing import Any

from genesis_lab.access.policy import CLEARANCE_SCOPE_PREFIX, RESTRICTED_MARKINGS, VETTED_SCOPE
from genesis_lab.compute.bound_to_parent import bound_command
from genesis_lab.settings import Settings, get_settings

__all__ = [
    "SERVICE_NAME",
    "genesis_custom_scopes",
    "genesis_roles",
    "genesis_service",
    "service_environment",
    "session_environment",
    "witness_service",
]

SERVICE_NAME = "genesis"
WITNESS_NAME = "genesis-audit-witness"


def service_environment(settings: Settings | None = None) -> dict[str, str]:
    """The ``GENESIS_*`` variables the service needs to see the same site as the hub.

    >>> "GENESIS_HOME" in service_environment()
    True
    """
    s = settings or get_settings()
    env = {
        "GENESIS_HOME": str(s.home),
        "GENESIS_DATA_ROOT": str(s.data_root),
        "GENESIS_STATE_DIR": str(s.state_dir),
        "GENESIS_RESULTS_ROOT": str(s.results_root),
        "GENESIS_CACHE_DIR": str(s.cache_dir),
        "GENESIS_AUDIT_WITNESS_DIR": str(s.audit_witness_dir),
        "GENESIS_USER_CATALOG_DIR": str(s.user_catalog_dir),
        "GENESIS_CATALOG_PATHS": os.pathsep.join(str(p) for p in s.catalog_paths),
        "GENESIS_CHALLENGE_PATHS": os.pathsep.join(str(p) for p in s.challenge_paths),
    }
    if s.site_file:
        env["GENESIS_SITE_FILE"] = str(s.site_file)
    return env


def genesis_service(
    *, port: int | None = None, settings: Settings | None = None, name: str = SERVICE_NAME
) -> dict[str, Any]:
    """The hub-managed service definition (``c.JupyterHub.services`` item); the port defaults to
    the site file's ``service.port`` or 10101.

    >>> genesis_service(port=10101)["url"]
    'http://127.0.0.1:10101'
    """
    settings = settings or get_settings()
    if port is None:
        port = int(settings.service.get("port", 10101))
    if port == 0:  # a free port, chosen once per hub start
        from genesis_lab.compute.network import free_port

        port = free_port()
    return {
        "name": name,
        "url": f"http://127.0.0.1:{port}",
        "command": bound_command("genesis_lab.service"),
        "environment": service_environment(settings),
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "Catalog, data access, audit and pipelines of genesis-lab"},
    }


def witness_service(*, settings: Settings | None = None) -> dict[str, Any]:
    """The audit witness (:mod:`genesis_lab.service.witness`) as a hub-managed service: it runs as
    the hub's user (root in production), keeps the genesis service's signed checkpoints in
    ``audit_witness_dir`` and answers on a Unix socket there, so it needs no URL and no port.

    >>> witness_service()["command"][-1]
    'genesis_lab.service.witness'
    """
    return {
        "name": WITNESS_NAME,
        "command": bound_command("genesis_lab.service.witness"),
        "environment": service_environment(settings),
        "info": {"description": "Keeps the genesis service's signed audit checkpoints"},
    }


def genesis_roles(name: str = SERVICE_NAME) -> list[dict[str, Any]]:
    """Roles that let every user and every session's token reach the service.

    Overrides the default ``user`` and ``server`` roles, adding only
    ``access:services!service=<name>``. Clearances stay in groups (or the custom scopes of
    :func:`genesis_custom_scopes` granted through roles); the service checks them itself.

    >>> [r["name"] for r in genesis_roles()]
    ['user', 'server']
    """
    access = f"access:services!service={name}"
    return [
        {"name": "user", "description": "Standard user privileges", "scopes": ["self", access]},
        {
            "name": "server",
            "description": "Post activity, and call the genesis service",
            "scopes": ["users:activity!user", "access:servers!server", access],
        },
    ]


def genesis_custom_scopes() -> dict[str, dict[str, str]]:
    """Custom scopes a site may grant through roles instead of (or as well as) groups.

    >>> sorted(genesis_custom_scopes())[0]
    'custom:genesis:clearance:controlled'
    """
    scopes = {
        f"{CLEARANCE_SCOPE_PREFIX}{m}": {"description": f"Read genesis data marked {m}."}
        for m in sorted(RESTRICTED_MARKINGS)
    }
    scopes[VETTED_SCOPE] = {"description": "Vetted genesis-lab user."}
    return scopes


def session_environment(public_url: str, name: str = SERVICE_NAME) -> dict[str, str]:
    """What a session needs to use the service (``c.Spawner.environment``).

    >>> session_environment("http://127.0.0.1:8000/")
    {'GENESIS_SERVICE_URL': 'http://127.0.0.1:8000/services/genesis/'}
    """
    base = public_url if public_url.endswith("/") else public_url + "/"
    return {"GENESIS_SERVICE_URL": f"{base}services/{name}/"}
