"""``genesis-lab challenge list|show|run|verify|results|submit``: challenge pipelines.

Parameters come as ``-p NAME VALUE`` or as flags built from the challenge's schema
(``--rho-max 0.8``); both are checked against ``challenge.yaml`` before any kernel starts.
"""

from __future__ import annotations

import argparse
from typing import Any

from genesis_lab.cli._output import add_json_flag, print_json, print_table
from genesis_lab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("challenge", help="list, run, verify and rank challenge pipelines")
    csub = p.add_subparsers(dest="challenge_command", metavar="ACTION")
    csub.required = True

    lst = csub.add_parser("list", help="every challenge")
    lst.add_argument("--domain", help="only this domain")
    add_json_flag(lst)
    lst.set_defaults(func=_list)

    show = csub.add_parser("show", help="a challenge's question, parameters and metrics")
    show.add_argument("id")
    add_json_flag(show)
    show.set_defaults(func=_show)

    def params(q: argparse.ArgumentParser) -> None:
        q.add_argument("id", help="challenge id, e.g. reactor-period")
        q.add_argument(
            "-p",
            "--parameter",
            nargs=2,
            action="append",
            default=[],
            metavar=("NAME", "VALUE"),
            help="set a parameter (repeatable); see `challenge show ID`",
        )
        q.add_argument(
            "--force", action="store_true", help="run even if an identical run is stored"
        )
        q.add_argument("--allocation", help="allocation id to charge")
        q.add_argument(
            "rest",
            nargs=argparse.REMAINDER,
            metavar="--NAME VALUE",
            help="parameter flags from the challenge's schema, e.g. --rho-max 0.8",
        )

    run = csub.add_parser(
        "run",
        help="run a challenge (parameters as -p NAME VALUE or --name VALUE)",
        description="Run a challenge notebook with papermill and store the result.",
    )
    params(run)
    run.add_argument(
        "--cluster", action="store_true", help="bind the run to the allocation (compute.cluster())"
    )
    add_json_flag(run)
    run.set_defaults(func=_run)

    sbm = csub.add_parser("submit", help="run a challenge as a SLURM batch job under an allocation")
    params(sbm)
    sbm.set_defaults(func=_submit)

    ver = csub.add_parser("verify", help="re-execute a stored run and compare its metrics")
    ver.add_argument("run", help="run id (see `challenge results ID`) or run folder")
    add_json_flag(ver)
    ver.set_defaults(func=_verify)

    res = csub.add_parser("results", help="stored runs of a challenge with metrics, best first")
    res.add_argument("id")
    res.add_argument("--completed", action="store_true", help="leave out failed runs")
    add_json_flag(res)
    res.set_defaults(func=_results)


def _schema_flags(challenge: Any, args: argparse.Namespace) -> dict[str, str]:
    """Parse what follows the id: the usual options and ``--name VALUE`` flags from the schema."""
    extra = list(args.rest or [])
    if not extra:
        return {}
    parser = argparse.ArgumentParser(
        prog=f"genesis-lab challenge run {challenge.id}",
        description=f"{challenge.title}. Parameter flags come from its challenge.yaml.",
    )
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE")
    )
    for flag in ("--force", "--cluster", "--json"):
        parser.add_argument(flag, action="store_true")
    parser.add_argument("--allocation")
    for name, p in challenge.parameters.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(
            flag,
            dest=name,
            metavar=p.type.upper(),
            help=f"{p.description + '; ' if p.description else ''}{p.bounds_text()}; "
            f"default {p.default!r}",
        )
    known, unknown = parser.parse_known_args(extra)
    for flag in ("force", "cluster", "json"):
        if getattr(known, flag) and hasattr(args, flag):
            setattr(args, flag, True)
    args.allocation = known.allocation or args.allocation
    args.parameter = [*args.parameter, *known.parameter]
    if unknown:
        allowed = ", ".join("--" + n.replace("_", "-") for n in challenge.parameters) or "(none)"
        raise ParameterError(
            f"unknown argument {unknown[0]!r} for challenge {challenge.id!r}; "
            f"its parameter flags: {allowed}"
        )
    return {k: getattr(known, k) for k in challenge.parameters if getattr(known, k) is not None}


def _collect(args: argparse.Namespace) -> tuple[Any, dict[str, str]]:
    from genesis_lab.pipelines import get_challenge

    ch = get_challenge(args.id)
    flags = _schema_flags(ch, args)
    values = {name: value for name, value in args.parameter}
    values.update(flags)
    ch.validate_parameters(values)  # errors name the parameter before anything starts
    return ch, values


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines import list_challenges

    chs = [c for c in list_challenges() if not args.domain or c.domain == args.domain]
    if args.json:
        print_json(
            [
                {"id": c.id, "catalog_id": c.catalog_id, "domain": c.domain, "title": c.title}
                for c in chs
            ]
        )
    else:
        print_table([(c.id, c.domain, c.title) for c in chs], ("ID", "DOMAIN", "TITLE"))
    return 0


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines import get_challenge

    ch = get_challenge(args.id)
    if args.json:
        data = ch.model_dump(mode="json", exclude={"parameters", "metrics"})
        data["parameters"] = ch.parameter_schema()
        data["metrics"] = [m.model_dump(mode="json") for m in ch.metrics.values()]
        data["catalog_id"] = ch.catalog_id
        print_json(data)
        return 0
    print(f"{ch.id} ({ch.catalog_id}): {ch.title}\n\n{ch.question}\n")
    print_table(
        [
            ("--" + p.name.replace("_", "-"), p.type, p.default, p.unit, p.bounds_text())
            for p in ch.parameters.values()
        ],
        ("FLAG", "TYPE", "DEFAULT", "UNIT", "ALLOWED"),
    )
    shown = [p for p in ch.parameters.values() if p.display_only]
    if shown:
        print("\ndisplay only (changes what is shown, not the metrics):")
        for p in shown:
            print(f"  --{p.name.replace('_', '-')}: {p.description}")
    print()
    print_table(
        [(m.name, m.unit, m.goal, m.description) for m in ch.metrics.values()],
        ("METRIC", "UNIT", "GOAL", "DESCRIPTION"),
    )
    for label, ids in (
        ("datasets", ch.datasets),
        ("simulators", ch.simulators),
        ("models", ch.models),
    ):
        if ids:
            print(f"\n{label}: {', '.join(ids)}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.runner import describe, run

    ch, values = _collect(args)
    result = run(ch.id, values, force=args.force, cluster=args.cluster, allocation=args.allocation)
    if args.json:
        print_json(describe(result))
    else:
        how = "cached result" if result.cached else "completed"
        print(f"{ch.id} run {result.run_id}: {how}")
        for name, value in result.metrics.items():
            print(f"  {name} = {value:g}")
        print(f"  stored in {result.path}")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.batch import submit

    ch, values = _collect(args)
    job = submit(ch.id, values, allocation=args.allocation, force=args.force)
    print(job)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.verify import verify

    report = verify(args.run)
    if args.json:
        print_json(report.as_dict())
    else:
        print(f"run {report.run_id} of {report.challenge}: "
              f"{'reproduced' if report.reproduced else 'NOT reproduced'}")  # fmt: skip
        print_table(
            [
                (
                    r["metric"],
                    r["stored"],
                    r["now"],
                    f"rel {r['rel_tol']:g} abs {r['abs_tol']:g}",
                    "yes" if r["agrees"] else "NO",
                )
                for r in report.metrics
            ],
            ("METRIC", "STORED", "NOW", "TOLERANCE", "AGREES"),
        )
        if report.notebook_changed:
            print("note: the challenge notebook changed since the run")
        for name, (old, new) in report.packages_changed.items():
            print(f"note: {name} {old} -> {new}")
        if report.error:
            print(f"error: {report.error}")
    return 0 if report.reproduced else 1


def _results(args: argparse.Namespace) -> int:
    from genesis_lab.pipelines.leaderboard import leaderboard

    runs = leaderboard(args.id, include_failed=not args.completed)
    if args.json:
        print_json([r.as_dict() for r in runs])
        return 0
    names = sorted({m for r in runs for m in r.metrics})
    rows = [
        (
            i + 1,
            r.run_id,
            r.state,
            *(_fmt(r.metrics.get(m)) for m in names),
            " ".join(f"{k}={v}" for k, v in r.parameters.items()),
        )
        for i, r in enumerate(runs)
    ]
    print_table(rows, ("RANK", "RUN", "STATUS", *[m.upper() for m in names], "PARAMETERS"))
    return 0


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"
