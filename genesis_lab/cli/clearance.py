"""``genesis-lab clearance grant|revoke|list``: who holds which access marking's clearance.

Needs an admin's or a clearance officer's hub token: ``JUPYTERHUB_API_TOKEN`` (set in their
session) or ``--token-file``; the hub's API address comes from ``JUPYTERHUB_API_URL`` or the site
file's ``hub.ip``/``hub.port``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clearance", help="grant, revoke and list users' clearances")
    csub = p.add_subparsers(dest="clearance_command", metavar="ACTION")
    csub.required = True

    def hub_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--hub-url", help="the hub's API, e.g. http://127.0.0.1:8000/hub/api")
        q.add_argument("--token-file", type=Path, help="file holding an admin's hub token")

    for action, verb in (("grant", "give"), ("revoke", "take away")):
        q = csub.add_parser(action, help=f"{verb} USER the clearance for MARKING")
        q.add_argument("user", help="hub user name")
        q.add_argument("marking", help="controlled, proprietary or export-controlled")
        hub_options(q)
        q.set_defaults(func=_change, action=action)

    lst = csub.add_parser("list", help="clearances of USER, or of every cleared user")
    lst.add_argument("user", nargs="?", help="hub user name (default: everyone cleared)")
    hub_options(lst)
    add_json_flag(lst)
    lst.set_defaults(func=_list)


def _client(args: argparse.Namespace):
    from genesis_lab.access.clearances import HubClient
    from genesis_lab.errors import SettingsError
    from genesis_lab.settings import get_settings

    s = get_settings()
    url = args.hub_url or s.hub_api_url
    if not url:
        from genesis_lab.cli.hub import use_default_site_file
        from genesis_lab.hub.site import hub_site

        use_default_site_file()
        site = hub_site(get_settings())
        url = f"http://{site.ip}:{site.port}/hub/api"
    token = args.token_file.read_text().strip() if args.token_file else s.hub_api_token
    if not token:
        raise SettingsError(
            "No hub token: set JUPYTERHUB_API_TOKEN to an admin's or clearance officer's token "
            "(made at /hub/token) or pass --token-file FILE."
        )
    return HubClient(url, token), dict(s.clearance_groups)


def _change(args: argparse.Namespace) -> int:
    from genesis_lab.access.clearances import grant, revoke

    hub, groups = _client(args)
    (grant if args.action == "grant" else revoke)(hub, args.user, args.marking, groups)
    done = "granted to" if args.action == "grant" else "revoked from"
    print(f"{args.marking} clearance {done} {args.user}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.access.clearances import clearances

    hub, groups = _client(args)
    held = clearances(hub, groups, args.user)
    if args.json:
        print_json(held)
    else:
        print_table([(u, ", ".join(m) or "none") for u, m in held.items()], ("USER", "CLEARANCES"))
    return 0
