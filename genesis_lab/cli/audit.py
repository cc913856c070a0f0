"""``genesis-lab audit verify|show``: check the audit log's hash chain, and read its records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify and read the service's audit log")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True

    ver = asub.add_parser(
        "verify", help="check the hash chain; exit 1 if a record was edited, moved or deleted"
    )
    ver.add_argument("--log", type=Path, help="log file (default: <state_dir>/audit/audit.jsonl)")
    add_json_flag(ver)
    ver.set_defaults(func=_verify)

    show = asub.add_parser("show", help="records, filtered by user and dataset")
    show.add_argument("--user", help="only records of this identity")
    show.add_argument("--dataset", help="only records about this dataset id")
    show.add_argument("--event", dest="event_type", help="only this event type, e.g. data.read")
    show.add_argument("--outcome", help="success, denied, not-found, unauthenticated or error")
    show.add_argument("--log", type=Path, help="log file (default: <state_dir>/audit/audit.jsonl)")
    add_json_flag(show)
    show.set_defaults(func=_show)


def _verify(args: argparse.Namespace) -> int:
    from genesis_lab.access.audit import verify

    report = verify(args.log)
    if args.json:
        print_json(report.to_dict())
    elif report.ok:
        print(f"OK: {report.records} records, chain intact, head {report.head_hash}")
    else:
        print(f"TAMPERED: {report.path} ({report.records} records)", file=sys.stderr)
        for problem in report.problems:
            where = f"line {problem['line']}: " if problem["line"] else ""
            print(f"  {where}{problem['problem']}", file=sys.stderr)
    return 0 if report.ok else 1


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.access.audit import OUTCOMES, query
    from genesis_lab.errors import ParameterError

    if args.outcome is not None and args.outcome not in OUTCOMES:
        raise ParameterError(
            f"--outcome={args.outcome!r} is unknown. Allowed values: {', '.join(OUTCOMES)}"
        )
    records = query(
        args.log,
        user=args.user,
        dataset=args.dataset,
        event_type=args.event_type,
        outcome=args.outcome,
    )
    if args.json:
        print_json(records)
        return 0
    print_table(
        [
            (
                r["seq"],
                r["time"],
                r["identity"],
                r["event_type"],
                r["outcome"],
                r.get("dataset") or "-",
                r.get("source", ""),
                r.get("reason", ""),
            )
            for r in records
        ],
        ("SEQ", "TIME", "USER", "EVENT", "OUTCOME", "DATASET", "SOURCE", "REASON"),
    )
    return 0
