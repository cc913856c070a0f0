"""``genesis-lab up``: start the platform on 127.0.0.1 with embedded defaults."""

from __future__ import annotations

import argparse
import os
import secrets
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="start the platform at http://127.0.0.1:8000")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    p.set_defaults(func=_up)


def _up(args: argparse.Namespace) -> int:
    from genesis_lab.catalog import load_catalog

    cat = load_catalog(warn=False)
    print(f"catalog: {len(cat)} entries")
    token = secrets.token_hex(16)
    print(f"JupyterLab at http://127.0.0.1:{args.port}/lab?token={token}")
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
        f"--port={args.port}", f"--IdentityProvider.token={token}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover
