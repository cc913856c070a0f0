"""``genesis-lab hub``: start JupyterHub with hub_config/jupyterhub_config.py and the site file."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hub",
        help="start the genesis-lab JupyterHub (site file: GENESIS_SITE_FILE or hub_config/site.yaml)",
    )
    add_hub_arguments(p, default_port=None)
    p.set_defaults(func=run_hub)


def add_hub_arguments(p: argparse.ArgumentParser, default_port: int | None) -> None:
    p.add_argument("--ip", default=None, help="address to listen on (default: hub.ip, 127.0.0.1)")
    p.add_argument("--port", type=int, default=default_port, help="public port (default: hub.port)")
    p.add_argument("--hub-port", type=int, default=None, help="the hub's internal port")
    p.add_argument("--proxy-api-port", type=int, default=None, help="the proxy's API port")
    p.add_argument(
        "jupyterhub_args",
        nargs="*",
        metavar="-- JUPYTERHUB_OPTION",
        help="further JupyterHub options after --, e.g. -- --JupyterHub.log_level=DEBUG",
    )


def use_default_site_file() -> None:
    """Use hub_config/site.yaml when GENESIS_SITE_FILE names no site file."""
    import os

    from genesis_lab.hub.launcher import DEFAULT_SITE_FILE
    from genesis_lab.settings import get_settings, reset_settings

    if get_settings().site_file is None and DEFAULT_SITE_FILE.is_file():
        os.environ["GENESIS_SITE_FILE"] = str(DEFAULT_SITE_FILE)
        reset_settings()


def run_hub(args: argparse.Namespace) -> int:
    from genesis_lab.hub.launcher import exec_hub, prepare

    use_default_site_file()
    launch = prepare(
        ip=args.ip,
        port=args.port,
        hub_port=args.hub_port,
        proxy_api_port=args.proxy_api_port,
        extra_args=args.jupyterhub_args,
    )
    exec_hub(launch)
    return 0  # pragma: no cover - exec does not return
