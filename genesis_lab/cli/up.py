"""``genesis-lab up`` and ``down``: the platform at http://127.0.0.1:8000 on embedded defaults.

SQLite, local sessions, the ``local`` allocation, the local catalog, a first admin. Ctrl-C or
SIGTERM on ``up`` (or ``genesis-lab down`` from another terminal) stops the hub and every session
it started; ``genesis-lab hub`` instead keeps sessions running across hub restarts.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from genesis_lab.cli.hub import add_hub_arguments

    p = sub.add_parser("up", help="start the platform (JupyterHub) at http://127.0.0.1:8000")
    add_hub_arguments(p, default_port=None)
    p.set_defaults(func=_up)

    down = sub.add_parser("down", help="stop the platform started by up, and its sessions")
    down.add_argument("--timeout", type=float, default=60, help="seconds to wait (default 60)")
    down.set_defaults(func=_down)


def _up(args: argparse.Namespace) -> int:
    from genesis_lab.cli.hub import run_hub

    args.jupyterhub_args = ["--JupyterHub.cleanup_servers=True", *args.jupyterhub_args]
    return run_hub(args)


def _down(args: argparse.Namespace) -> int:
    import os
    import signal
    import time
    from pathlib import Path

    from genesis_lab.cli.hub import use_default_site_file
    from genesis_lab.hub.config import hub_plan

    use_default_site_file()
    plan = hub_plan()
    pid_file = Path(plan.pid_file)
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        pid = 0
    try:
        ours = bool(pid) and _hub_runs(pid, plan.state_dir)
    except PermissionError:
        print(f"genesis-lab: the hub (pid {pid}) runs as another user: run down as that user")
        return 1
    if not ours:
        # a hub that crashed leaves its pid file, and Linux hands the pid to another process
        print(f"genesis-lab: no running platform ({pid_file} names no live hub)")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            print(f"genesis-lab: stopped the hub (pid {pid}) and its sessions")
            return 0
        time.sleep(0.2)
    print(f"genesis-lab: the hub (pid {pid}) is still running after {args.timeout:g} s")
    return 1


def _hub_runs(pid: int, state_dir: object) -> bool:
    """Whether ``pid`` is this platform's hub: a live JupyterHub working in its state folder."""
    import os
    from pathlib import Path

    from genesis_lab.compute.commands import process_argv

    argv = process_argv(pid)
    hub = ("jupyterhub", "genesis_lab.hub.app")
    if not _alive(pid) or not any(a in hub or a.endswith("/jupyterhub") for a in argv):
        return False
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")  # PermissionError: another user's hub
    except FileNotFoundError:
        return False
    return Path(cwd) == Path(str(state_dir))


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process its parent has not reaped yet does not)."""
    from genesis_lab.compute.commands import process_started

    return process_started(pid) > 0
