"""``genesis-lab agent pending|approve|reject|stop|enable``: the human gate of AI agents.

Agent calls over the allocation's ``agents`` limits (site file) wait here for the user; ``stop``
refuses every agent call, cancels their work and batch jobs, and revokes the user's agent tokens
(with ``JUPYTERHUB_API_TOKEN`` or ``--token-file``; deleting them at the hub needs a token with the
``tokens`` scope, such as one made at /hub/token).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agent", help="approve or reject AI agents' held calls; stop agents")
    asub = p.add_subparsers(dest="agent_command", metavar="ACTION")
    asub.required = True

    pending = asub.add_parser("pending", help="calls waiting for your approval")
    add_json_flag(pending)
    pending.set_defaults(func=_pending)

    for action, verb in (("approve", "let it run"), ("reject", "refuse it")):
        q = asub.add_parser(action, help=f"{verb}: a held agent call by its id")
        q.add_argument("request_id", metavar="ID", help="request id (genesis-lab agent pending)")
        add_json_flag(q)
        q.set_defaults(func=_decide, action=action)

    stop = asub.add_parser(
        "stop", help="refuse agent calls, cancel their work and jobs, revoke agent tokens"
    )
    stop.add_argument("--hub-url", help="the hub's API, e.g. http://127.0.0.1:8000/hub/api")
    stop.add_argument("--token-file", type=Path, help="file holding your hub token")
    add_json_flag(stop)
    stop.set_defaults(func=_stop)

    enable = asub.add_parser("enable", help="let agents run again after a stop")
    add_json_flag(enable)
    enable.set_defaults(func=_enable)


def _gate():
    from genesis_lab.mcp.gate import Gate

    return Gate.for_session()


def _user() -> str:
    from genesis_lab.settings import get_settings

    return get_settings().user


def _pending(args: argparse.Namespace) -> int:
    rows = _gate().pending()
    if args.json:
        print_json(rows)
    elif not rows:
        print("No agent calls are waiting for approval.")
    else:
        print_table(
            [
                (
                    r["id"],
                    r["tool"],
                    f"{r['core_hours']:g}",
                    "yes" if r["batch"] else "no",
                    r["created"],
                    r["reason"],
                )
                for r in rows
            ],
            ("ID", "TOOL", "CORE-HOURS", "BATCH", "CREATED", "WHY"),
        )
    return 0


def _decide(args: argparse.Namespace) -> int:
    gate = _gate()
    if args.action == "approve":
        gate.approve(args.request_id, by=_user())
    else:
        gate.reject(args.request_id, by=_user())
    decision = gate.decision(args.request_id)
    if args.json:
        print_json({"id": args.request_id, "decision": decision})
    else:
        print(f"agent request {args.request_id} {decision}")
    return 0


def _hub(args: argparse.Namespace):
    from genesis_lab.access.hubapi import HubClient
    from genesis_lab.settings import get_settings

    s = get_settings()
    url = args.hub_url or s.hub_api_url
    token = args.token_file.read_text().strip() if args.token_file else s.hub_api_token
    return HubClient(url, token) if url and token else None


def _stop(args: argparse.Namespace) -> int:
    from genesis_lab.mcp.gate import stop_agents

    result = stop_agents(_gate(), _hub(args), by=_user())
    if args.json:
        print_json(result)
        return 0
    print(
        f"agents stopped in {result['seconds']:.2f} s: {result['work_cancelled']} running "
        f"work cancelled, {result['jobs_cancelled']} batch jobs cancelled, "
        f"{result['tokens_revoked']} agent tokens revoked ({result['tokens_deleted']} deleted "
        "at the hub). `genesis-lab agent enable` lets agents run again."
    )
    for error in result["errors"]:
        print(f"  note: {error}")
    return 0


def _enable(args: argparse.Namespace) -> int:
    _gate().enable(by=_user())
    if args.json:
        print_json({"enabled": True})
    else:
        print("agents may run again (revoked tokens stay revoked)")
    return 0
