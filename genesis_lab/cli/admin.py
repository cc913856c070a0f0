"""``genesis-lab admin reset-password [USER]``: a new one-time password for a hub admin."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("admin", help="hub administration from the hub's host")
    asub = p.add_subparsers(dest="admin_command", metavar="ACTION")
    asub.required = True
    reset = asub.add_parser(
        "reset-password",
        help="print a new one-time password for a hub admin (default: the first admin); run as "
        "the hub's account (root)",
    )
    reset.add_argument("user", nargs="?", help="an admin of hub.admin_users")
    reset.set_defaults(func=_reset)


def _reset(args: argparse.Namespace) -> int:
    from genesis_lab.cli.hub import use_default_site_file
    from genesis_lab.hub.config import hub_plan
    from genesis_lab.hub.passwords import reset_password

    use_default_site_file()
    name, password = reset_password(hub_plan(), args.user)
    print(f"user: {name}\none-time password: {password}")
    print("(shown once, only its bcrypt hash is stored; after signing in with it, the hub asks "
          "for a password of your own at /hub/change-password before anything else)")  # fmt: skip
    return 0
