"""``genesis-lab schedule add|list|remove|runs|fire`` and ``genesis-lab scheduler``.

``scheduler`` is the long-running process (standalone, or a hub-managed service) that fires due runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="run challenges on a cron schedule")
    ssub = p.add_subparsers(dest="schedule_command", metavar="ACTION")
    ssub.required = True

    add = ssub.add_parser(
        "add",
        help="schedule a challenge",
        description="Schedule a challenge. Slots missed while no scheduler ran are coalesced "
        "into one run of the latest slot; a slot never runs twice.",
    )
    add.add_argument("id", help="challenge id")
    add.add_argument("--cron", required=True, help="cron expression in UTC, e.g. '0 2 * * *'")
    add.add_argument("--allocation", help="allocation to charge (SLURM ones run as batch jobs)")
    add.add_argument("--owner", help="who the runs belong to (default: you)")
    add.add_argument("--notify", help="email address or webhook URL told about failures")
    add.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE")
    )
    add_json_flag(add)
    add.set_defaults(func=_add)

    lst = ssub.add_parser("list", help="every schedule with its next run")
    add_json_flag(lst)
    lst.set_defaults(func=_list)

    rm = ssub.add_parser("remove", help="delete a schedule")
    rm.add_argument("schedule_id")
    rm.set_defaults(func=_remove)

    runs = ssub.add_parser("runs", help="fired runs of the schedules")
    runs.add_argument("schedule_id", nargs="?")
    add_json_flag(runs)
    runs.set_defaults(func=_runs)

    fire = ssub.add_parser("fire", help="(used by the scheduler) run one claimed slot")
    fire.add_argument("schedule_id")
    fire.add_argument("slot", help="ISO time of the cron slot")
    fire.add_argument("--outcome", type=Path, help="record the outcome in this file (as owner)")
    fire.add_argument("--spec", type=json.loads, help="the schedule: challenge, parameters, ...")
    fire.set_defaults(func=_fire)

    sch = sub.add_parser("scheduler", help="fire due schedules until stopped (SIGTERM)")
    sch.add_argument("--interval", type=float, default=30.0, help="seconds between checks")
    sch.set_defaults(func=_serve)


def _add(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.schedules import ScheduleBook

    s = ScheduleBook().add(
        args.id,
        args.cron,
        parameters=dict(args.parameter),
        allocation=args.allocation,
        owner=args.owner,
        notify=args.notify,
    )
    if args.json:
        print_json(s.as_dict())
    else:
        print(s.id)
    return 0


def _next(s) -> str:
    from croniter import croniter

    return croniter(s.cron, s.last_fired or s.created).get_next(type(s.created)).isoformat()


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.schedules import ScheduleBook

    items = ScheduleBook().list()
    if args.json:
        print_json([s.as_dict() | {"next_run": _next(s)} for s in items])
    else:
        print_table(
            [(s.id, s.challenge, s.cron, s.owner, s.allocation or "-", _next(s)) for s in items],
            ("ID", "CHALLENGE", "CRON", "OWNER", "ALLOCATION", "NEXT RUN"),
        )
    return 0


def _remove(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.schedules import ScheduleBook

    ScheduleBook().remove(args.schedule_id)
    print(f"removed {args.schedule_id}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.scheduler import Journal
    from genesis_lab.settings import get_settings

    entries = Journal(get_settings()).entries(args.schedule_id)
    if args.json:
        print_json(entries)
    else:
        print_table(
            [(e["schedule"], e["slot"], e["status"], e.get("run_id", "-"), _why(e))
             for e in entries],
            ("SCHEDULE", "SLOT", "STATUS", "RUN", "REASON"),
        )  # fmt: skip
    return 0


def _why(entry: dict) -> str:
    err = entry.get("error")
    if isinstance(err, dict):
        return f"{err.get('ename', '')}: {err.get('evalue', '')}"[:100]
    return str(err or "")[:100]


def _fire(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.scheduler import fire

    entry = fire(args.schedule_id, args.slot, outcome=args.outcome, spec=args.spec)
    print(f"{args.schedule_id} {args.slot}: {entry['status']}")
    return 0 if entry["status"] in ("completed", "already-started") else 1


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from genesis_lab.pipelines.scheduler import Scheduler

    stop = threading.Event()

    def on_signal(*_: object) -> None:
        # set from another thread: the handler runs in the main thread, which may hold the
        # event's own lock (inside stop.wait) at that moment, and the lock is not reentrant
        threading.Thread(target=stop.set, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    print(f"genesis-lab scheduler: checking every {args.interval:g} s", flush=True)
    Scheduler(account_of=_hub_accounts()).serve(args.interval, stop)
    return 0


def _hub_accounts():
    """As root under a hub (its managed service), an owner is a hub user and their runs go to
    the account their sessions run as: the site's own account of that name on SLURM
    (``runuser -u {username}``), else the hub's ``jupyter-<name>``. Without a hub, owners are
    Unix names."""
    import os

    if os.geteuid() != 0 or "JUPYTERHUB_SERVICE_NAME" not in os.environ:
        return None
    from genesis_lab.hub.accounts import DEFAULT_PREFIX, account_name
    from genesis_lab.settings import get_settings

    hub = get_settings().hub
    if hub.get("spawner") == "slurm":
        return lambda owner: owner
    prefix = str(hub.get("account_prefix", DEFAULT_PREFIX))
    return lambda owner: account_name(owner, prefix)
