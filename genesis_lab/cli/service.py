"""``genesis-lab service``: run the genesis service (normally started by the hub)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "service",
        help="run the genesis REST service (the hub starts it; see genesis_lab.service.hubconfig)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="port on 127.0.0.1 (default: from JUPYTERHUB_SERVICE_URL)",
    )
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from genesis_lab.service.app import serve

    serve(port=args.port)
    return 0
