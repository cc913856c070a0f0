"""``genesis-lab report --from DATE --to DATE --format html|pdf|json [-o FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the yearly report of the programme, from the site's records")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, help="last day (inclusive), YYYY-MM-DD")
    p.add_argument("--format", choices=("html", "pdf", "json"), default="html")
    p.add_argument(
        "-o", "--output", type=Path, help="file to write (default: stdout; pdf needs it)"
    )
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from genesis_lab.report import collect, render

    report = collect(args.start, args.end)
    out = render(report, args.format, args.output)
    if args.output is None:
        sys.stdout.write(str(out))
    else:
        print(f"wrote {out}", file=sys.stderr)
    return 0
