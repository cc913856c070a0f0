"""``python -m genesis_lab.compute.bound_to_parent [--parent PID] MODULE [ARG ...]``: run ``MODULE`` as
``python -m MODULE ARG ...`` would, in a process that ends (SIGTERM) when the one that started it
dies.

The hub starts its managed services this way. A hub that crashes, or is killed, then leaves no
service behind holding its port, running schedules a second time or answering with the old
hub's settings: the next hub starts its own. Each also has faulthandler enabled: SIGABRT (or a
crash) writes every thread's stack to its stderr, the hub's log.

SIGINT, with which JupyterHub asks a service to stop, is Python's default (KeyboardInterrupt) again
in the service. A hub started in the background by a shell (``make up &``, a CI runner) passes
on an ignored SIGINT, and a service that installs no handler of its own (the idle culler) then
ignored the hub's request: each stop of the hub waited out JupyterHub's interrupt timeout.
"""

from __future__ import annotations

import faulthandler
import os
import runpy
import signal
import sys
from collections.abc import Sequence

from genesis_lab.compute.commands import end_with_parent

__all__ = ["bound_command", "main"]

_NAME = "genesis_lab.compute.bound_to_parent"


def bound_command(module: str, *args: str, parent: int | None = None) -> list[str]:
    """The command running ``python -m module args`` bound to ``parent`` (default: this process),
    the process that will start it.

    The parent's pid is in the command: a parent that dies while the child is still starting
    Python is then noticed, where ``os.getppid()`` would already name the process that adopted
    the child.

    >>> bound_command("jupyterhub_idle_culler", "--timeout=60", parent=42)[-5:]
    ['genesis_lab.compute.bound_to_parent', '--parent', '42', 'jupyterhub_idle_culler', '--timeout=60']
    """
    pid = os.getpid() if parent is None else parent
    return [sys.executable, "-m", _NAME, "--parent", str(pid), module, *args]


def main(argv: Sequence[str] | None = None) -> int:
    """Bind this process to its parent, then run the module; 2 without one, 1 if the parent
    has already ended."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parent = None
    if len(argv) >= 2 and argv[0] == "--parent" and argv[1].isdigit():
        parent, argv = int(argv[1]), argv[2:]
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m {_NAME} [--parent PID] MODULE [ARG ...]", file=sys.stderr)
        return 2
    parent = os.getppid() if parent is None else parent
    end_with_parent()()
    if os.getppid() != parent:  # it died before the binding took hold
        print(f"{argv[0]}: the process that started it has ended", file=sys.stderr)
        return 1
    faulthandler.enable()  # a stuck or crashing service shows every thread's stack (SIGABRT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = argv
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
