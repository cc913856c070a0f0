"""``genesis-lab up``: the platform at http://127.0.0.1:8000 with embedded defaults (what make up runs).

SQLite, sessions as local processes, the ``local`` allocation, the local catalog, a first admin.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from genesis_lab.cli.hub import add_hub_arguments

    p = sub.add_parser("up", help="start the platform (JupyterHub) at http://127.0.0.1:8000")
    add_hub_arguments(p, default_port=8000)
    p.set_defaults(func=_up)


def _up(args: argparse.Namespace) -> int:
    from genesis_lab.cli.hub import run_hub

    return run_hub(args)
