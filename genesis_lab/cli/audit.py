"""``genesis-lab audit verify|show|reset``: check the audit log's hash chain against the witness's
signed checkpoints, read its records, and start a new log after a failure (keeping the evidence)."""

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
        "verify",
        help="check the hash chain and the witness's checkpoints; exit 1 if a record was edited, "
        "moved or deleted, or the log was cut or removed",
    )
    ver.add_argument("--log", type=Path, help="log file (default: <state_dir>/audit/audit.jsonl)")
    ver.add_argument("--witness", type=Path,
                     help="the witness's folder (default: the settings' audit_witness_dir)")  # fmt: skip
    add_json_flag(ver)
    ver.set_defaults(func=_verify)

    reset = asub.add_parser(
        "reset",
        help="after a failed verify: move the log into the witness's evidence folder and start a "
        "new one (run as the witness's owner, root in production)",
    )
    reset.add_argument("--reason", required=True, help="why (kept with the evidence)")
    reset.add_argument("--log", type=Path, help="log file (default: <state_dir>/audit/audit.jsonl)")
    reset.add_argument("--witness", type=Path, help="the witness's folder (default: settings)")
    add_json_flag(reset)
    reset.set_defaults(func=_reset)

    show = asub.add_parser("show", help="records, filtered by user and dataset")
    show.add_argument("--user", help="only records of this identity")
    show.add_argument("--dataset", help="only records about this dataset id")
    show.add_argument("--event", dest="event_type", help="only this event type, e.g. data.read")
    show.add_argument("--outcome", help="success, denied, not-found, unauthenticated or error")
    show.add_argument(
        "--agent",
        action="store_true",
        help="only AI agents' tool calls (MCP): tool, argument digest, client, token note",
    )
    show.add_argument("--log", type=Path, help="log file (default: <state_dir>/audit/audit.jsonl)")
    add_json_flag(show)
    show.set_defaults(func=_show)


def _witness(args: argparse.Namespace) -> Path | None:
    """The witness of the log checked: the one given, else the site's for the site's log (another
    log, say the hub's account log, has no witness: its chain alone is checked)."""
    from genesis_lab.access.audit import default_log_path
    from genesis_lab.settings import get_settings

    if args.witness:
        return args.witness
    if args.log and args.log.resolve() != default_log_path().resolve():
        return None
    return get_settings().audit_witness_dir


def _verify(args: argparse.Namespace) -> int:
    from genesis_lab.access.audit import verify

    report = verify(args.log, witness=_witness(args))
    if args.json:
        print_json(report.to_dict())
    elif report.ok:
        anchored = (
            f", {report.checkpoints} witness checkpoints of epoch {report.epoch} match "
            f"(the last covers {report.checkpointed_seq} records)"
            if report.epoch is not None
            else ""
        )
        print(f"OK: {report.records} records, chain intact{anchored}, head {report.head_hash}")
    else:
        print(
            f"TAMPERED: {report.path} ({report.records} records); first bad sequence number: "
            f"{report.first_bad_seq}",
            file=sys.stderr,
        )
        for problem in report.problems:
            where = f"line {problem['line']}: " if problem["line"] else ""
            print(f"  {where}{problem['problem']}", file=sys.stderr)
        print(
            "Keep the log as evidence; to start a new one: genesis-lab audit reset --reason TEXT "
            "(as the witness's owner, root in production).",
            file=sys.stderr,
        )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0 if report.ok else 1


def _reset(args: argparse.Namespace) -> int:
    import getpass

    from genesis_lab.access.audit import default_log_path, reset_log

    witness = _witness(args)
    if witness is None:
        print(f"--witness is required to reset {args.log}: it is not the site's audit log, "
              "whose witness the settings name.", file=sys.stderr)  # fmt: skip
        return 2
    done = reset_log(
        args.log or default_log_path(), witness, reason=args.reason, who=getpass.getuser()
    )
    if args.json:
        print_json(done)
    else:
        print(
            f"epoch {done['epoch']} started; evidence in {done['evidence']} "
            f"({', '.join(done['moved']) or 'no files'}); the service resumes at its next check"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.access.audit import OUTCOMES, query
    from genesis_lab.errors import ParameterError
    from genesis_lab.mcp.audit import EVENT_TYPE as AGENT_EVENT

    if args.outcome is not None and args.outcome not in OUTCOMES:
        raise ParameterError(
            f"--outcome={args.outcome!r} is unknown. Allowed values: {', '.join(OUTCOMES)}"
        )
    if args.agent and args.event_type not in (None, AGENT_EVENT):
        raise ParameterError(f"--agent lists {AGENT_EVENT} records; drop --event {args.event_type}")
    records = query(
        args.log,
        user=args.user,
        dataset=args.dataset,
        event_type=AGENT_EVENT if args.agent else args.event_type,
        outcome=args.outcome,
    )
    if args.json:
        print_json(records)
        return 0
    if args.agent:
        print_table(
            [
                (r["seq"], r["time"], r["identity"], r.get("tool", "-"), r["outcome"],
                 r.get("client") or "-", r.get("token_note") or "-",
                 r.get("arguments_sha256", "")[:12], r.get("reason", ""))
                for r in records
            ],
            ("SEQ", "TIME", "USER", "TOOL", "OUTCOME", "CLIENT", "TOKEN NOTE", "ARGS SHA256",
             "REASON"),
        )  # fmt: skip
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
