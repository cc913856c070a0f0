"""Jupyter server extension behind the Genesis side panel and status-bar item.

Serves ``<base_url>/genesis/catalog``, ``/genesis/status`` and ``/genesis/challenges/<id>/open|run``
to the JupyterLab extension; every answer comes from the same SDK functions as the widgets. The
agents' MCP endpoint and gate routes (``genesis/mcp``, ``genesis/agent/...``) come from
:mod:`genesis_lab.mcp.http`.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado import web

from genesis_lab.catalog import get_catalog
from genesis_lab.errors import GenesisError
from genesis_lab.fileio import atomic_path
from genesis_lab.settings import get_settings
from genesis_lab.widgets.catalog_browser import open_code

SDK_IMPORT = "import genesis_lab as gl"
_RUNS: dict[str, dict[str, Any]] = {}
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="genesis-run")


def catalog_summary() -> list[dict[str, str]]:
    """Every entry as the small record the side panel groups, filters and acts on.

    ``code`` is what the panel inserts into a notebook: the SDK import and the catalog browser's
    :func:`~genesis_lab.widgets.catalog_browser.open_code` (empty for challenges, which open).

    >>> next(r for r in catalog_summary() if r["kind"] == "dataset")["code"]  # doctest: +ELLIPSIS
    'import genesis_lab as gl\\nds = gl.open_dataset("...")'
    """
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "domain": e.domain,
            "title": e.title,
            "marking": e.marking,
            "keywords": " ".join(e.keyword),
            "challenge": e.options.get("challenge", "") if e.kind == "challenge" else "",
            "code": "" if e.kind == "challenge" else f"{SDK_IMPORT}\n{open_code(e)}",
        }
        for e in get_catalog()
    ]


def session_status() -> dict[str, Any]:
    """The session's allocation and the core-hours charged to it so far."""
    settings = get_settings()
    status: dict[str, Any] = {"user": settings.user, "allocation": settings.allocation}
    if not settings.allocation:
        status.update(account=None, scheduler="local", budget_core_hours=None, used_core_hours=0.0)
        return status
    try:
        from genesis_lab.compute import get_allocation, used_core_hours

        alloc = get_allocation(settings.allocation)
        status.update(
            account=alloc.account,
            scheduler=alloc.scheduler,
            budget_core_hours=alloc.budget_core_hours,
            used_core_hours=round(used_core_hours(alloc.id), 3),
        )
    except (GenesisError, ImportError) as exc:
        status["error"] = str(exc)
    return status


def open_challenge(challenge_id: str, root_dir: Path) -> str:
    """Copy a challenge notebook into the user's folder (never over their edits); its path."""
    entry = next(
        (
            e
            for e in get_catalog().search(kind="challenge")
            if e.options.get("challenge") == challenge_id
        ),
        None,
    )
    if entry is None:
        raise web.HTTPError(404, f"No challenge {challenge_id!r}")
    folder = Path(entry.options["folder"])
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise web.HTTPError(404, f"Challenge {challenge_id!r} has no notebook")
    target_dir = root_dir / "challenges" / challenge_id
    target = target_dir / notebooks[0].name
    if not target.exists():
        target_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(notebooks[0], tmp)
    return str(target.relative_to(root_dir))


def _run_challenge(challenge_id: str) -> None:
    from genesis_lab import pipelines

    record = _RUNS[challenge_id]
    try:
        result = pipelines.run(challenge_id)
        record.update(status="succeeded", run=str(getattr(result, "run_id", result)))
    except Exception as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")


class CatalogHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(catalog_summary()))


class StatusHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(session_status()))


class ChallengeOpenHandler(APIHandler):
    @web.authenticated
    def post(self, challenge_id: str) -> None:
        root = Path(self.settings["server_root_dir"]).expanduser()
        self.finish(json.dumps({"path": open_challenge(challenge_id, root)}))


class ChallengeRunHandler(APIHandler):
    @web.authenticated
    def post(self, challenge_id: str) -> None:
        if _RUNS.get(challenge_id, {}).get("status") == "running":
            self.set_status(409)
            self.finish(json.dumps({"status": "running"}))
            return
        _RUNS[challenge_id] = {"status": "running"}
        _EXECUTOR.submit(_run_challenge, challenge_id)
        self.set_status(202)
        self.finish(json.dumps(_RUNS[challenge_id]))

    @web.authenticated
    def get(self, challenge_id: str) -> None:
        self.finish(json.dumps(_RUNS.get(challenge_id, {"status": "none"})))


class GenesisExtension(ExtensionApp):
    """The server extension: its routes under ``<base_url>genesis/`` and its stop.

    An :class:`~jupyter_server.extension.application.ExtensionApp` because only those get
    ``stop_extension``, which the server awaits in its shutdown while the event loop still runs:
    the agents' MCP session managers end there, or their worker threads keep the process alive.

    >>> GenesisExtension.name
    'genesis_lab'
    """

    name = "genesis_lab"

    def initialize_settings(self) -> None:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._stop_on_sigint)

    def _stop_on_sigint(self, sig: int, frame: Any) -> None:
        """SIGINT without a terminal (JupyterHub's local spawners send it before SIGTERM) stops
        the server as SIGTERM does; jupyter_server leaves it to KeyboardInterrupt, which ends
        the event loop without any cleanup. A second SIGINT interrupts as before."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.log.critical("received signal %s, stopping", sig)
        assert self.serverapp is not None
        self.serverapp.stop(from_signal=True)

    def initialize_handlers(self) -> None:
        from genesis_lab.mcp.http import handlers as agent_handlers

        ident = r"([a-z0-9][a-z0-9._-]*)"
        self.handlers.extend(
            [
                ("genesis/catalog", CatalogHandler),
                ("genesis/status", StatusHandler),
                (url_path_join("genesis/challenges", ident, "open"), ChallengeOpenHandler),
                (url_path_join("genesis/challenges", ident, "run"), ChallengeRunHandler),
                *agent_handlers("/"),
            ]
        )

    async def stop_extension(self) -> None:
        from genesis_lab.mcp.http import shutdown

        await shutdown()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "genesis_lab.widgets.server", "app": GenesisExtension}]
