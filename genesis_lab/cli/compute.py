"""``genesis-lab alloc list|show|preview|usage|charge`` and ``genesis-lab doctor [--security]``."""

from __future__ import annotations

import argparse

from genesis_lab.cli._output import add_json_flag, print_json, print_table
from genesis_lab.compute.ledger import KINDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("alloc", help="allocations: list, show, preview a job script, usage")
    asub = p.add_subparsers(dest="alloc_command", metavar="ACTION")
    asub.required = True

    lst = asub.add_parser("list", help="allocations of the site (--mine: only yours)")
    lst.add_argument("--mine", action="store_true", help="only allocations you are a member of")
    add_json_flag(lst)
    lst.set_defaults(func=_on_the_site(_list))

    show = asub.add_parser("show", help="one allocation with its limits, budget and usage")
    show.add_argument("id", help="allocation id")
    add_json_flag(show)
    show.set_defaults(func=_on_the_site(_show))

    prev = asub.add_parser("preview", help="print the exact batch script cluster() would submit")
    prev.add_argument("id", nargs="?", help="allocation id (default: the session's)")
    prev.add_argument("--cores", type=int, help="cores per job")
    prev.add_argument("--memory", help="memory per job, e.g. 4GB")
    prev.add_argument("--processes", type=int, help="worker processes per job")
    prev.add_argument("--walltime", help="walltime HH:MM:SS")
    prev.add_argument("--interface", help="network interface of workers and scheduler")
    prev.set_defaults(func=_on_the_site(_preview))

    use = asub.add_parser(
        "usage",
        help="core-hours per allocation and user from the site ledger, and what remains of each "
        "allocation's budget (yours; an admin's hub token or root: everyone's)",
    )
    use.add_argument("id", nargs="?", help="only this allocation")
    add_json_flag(use)
    use.set_defaults(func=_on_the_site(_usage))

    chg = asub.add_parser(
        "charge",
        help="charge one record of your own work to an allocation's site ledger (batch jobs "
        "submitted by challenge submit do this when they end)",
    )
    chg.add_argument("id", help="the allocation")
    chg.add_argument("--kind", required=True, choices=KINDS, help="what ran")
    chg.add_argument("--ref", required=True, help="the job id or another reference")
    chg.add_argument("--cores", required=True, type=int, help="cores held")
    chg.add_argument("--start", required=True, help="epoch seconds or ISO 8601")
    chg.add_argument("--end", required=True, help="epoch seconds or ISO 8601")
    add_json_flag(chg)
    chg.set_defaults(func=_on_the_site(_charge))

    doc = sub.add_parser(
        "doctor", help="check scheduler, compute nodes, network interface and dask versions"
    )
    doc.add_argument("--allocation", help="check this allocation (default: every scheduler)")
    doc.add_argument(
        "--job", action="store_true", help="also submit a tiny job that dials back to this host"
    )
    doc.add_argument(
        "--security",
        action="store_true",
        help="instead: as a member's account (runuser, needs root), try to read the data root, "
        "audit log, hub state and tokens, and to write the code and venv",
    )
    doc.add_argument("--as", dest="as_user", metavar="USER", help="the member account to try as")
    add_json_flag(doc)
    doc.set_defaults(func=_on_the_site(_doctor))


def _on_the_site(command):
    """``command`` on the hub's site file (``hub_config/site.yaml``) when GENESIS_SITE_FILE names
    none, as ``genesis-lab up`` runs it: an admin's ``alloc usage`` sees the platform's ledger."""

    def run(args: argparse.Namespace) -> int:
        from genesis_lab.cli.hub import use_default_site_file

        use_default_site_file()
        return command(args)

    return run


def _row(a) -> dict:
    from genesis_lab.compute import used_core_hours

    data = a.model_dump(mode="json", exclude_none=True)
    data["used_core_hours"] = used_core_hours(a.id)
    return data


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.compute import allocations_for, get_allocations
    from genesis_lab.settings import get_settings

    allocs = allocations_for(get_settings().user) if args.mine else list(get_allocations().values())
    rows = [_row(a) for a in allocs]
    if args.json:
        print_json(rows)
        return 0
    print_table(
        [
            (
                r["id"], r["scheduler"], r.get("account", "-"), r.get("queue", "-"),
                r["walltime"], r["cores"], r["memory"],
                f"{r['used_core_hours']:.2f}/{r.get('budget_core_hours', 'inf')}",
                ",".join(r["members"]),
            )
            for r in rows
        ],
        ("ID", "SCHEDULER", "ACCOUNT", "QUEUE", "WALLTIME", "CORES", "MEMORY", "CORE-H USED",
         "MEMBERS"),
    )  # fmt: skip
    return 0


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.compute import get_allocation

    data = _row(get_allocation(args.id))
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from genesis_lab.compute import job_script

    overrides = {
        k: getattr(args, k)
        for k in ("cores", "memory", "processes", "walltime", "interface")
        if getattr(args, k) is not None
    }
    print(job_script(args.id, **overrides), end="")
    return 0


def _time(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _charge(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from genesis_lab.compute.accounting import accounted_usage
    from genesis_lab.compute.allocations import get_allocations
    from genesis_lab.compute.ledger import UsageRecord, charge
    from genesis_lab.settings import get_settings

    cores, start, end, source = args.cores, _time(args.start), _time(args.end), "job-lifetime"
    alloc = get_allocations().get(args.id)
    # a batch job charging itself as it ends: accounting's cores and start, until now
    found = (
        accounted_usage(args.ref, alloc.scheduler) if alloc and alloc.scheduler != "local" else None
    )
    if found is not None:
        (cores, start, end), source = found, "sacct"
    rec = charge(UsageRecord.from_times(
        allocation=args.id, user=get_settings().user, kind=args.kind, ref=args.ref,
        cores=cores, start=start, end=end, source=source,
    ))  # fmt: skip
    if args.json:
        print_json(asdict(rec))
    else:
        print(
            f"Charged {rec.core_hours:.4f} core-hours of {rec.kind} {rec.ref} to {rec.allocation}."
        )
    return 0


def _usage(args: argparse.Namespace) -> int:
    from genesis_lab.compute.ledger import usage_report

    report = usage_report()
    if args.id is not None:
        for key in ("by_user", "records", "running_by_user"):
            report[key] = [r for r in report.get(key, []) if r["allocation"] == args.id]
        report["allocations"] = [a for a in report["allocations"] if a["id"] == args.id]
    if args.json:
        print_json({k: v for k, v in report.items() if k != "records"})
        return 0
    who = "every user" if report["admin"] else report["user"]
    print(f"Core-hours charged in the site ledger ({who}):")
    print_table(
        [(r["allocation"], r["user"], f"{r['core_hours']:.4f}") for r in report["by_user"]],
        ("ALLOCATION", "USER", "CORE-HOURS"),
    )
    if report.get("running_by_user"):
        print()
        print(f"Running (not yet charged), as of {report.get('running_as_of')}:")
        print_table(
            [(r["allocation"], r["user"], f"{r['core_hours']:.4f}")
             for r in report["running_by_user"]],
            ("ALLOCATION", "USER", "CORE-HOURS"),
        )  # fmt: skip

    def hours(value: float | None, none: str = "unlimited") -> str:
        return none if value is None else f"{value:.4f}"

    print()
    print_table(
        [
            (a["id"], hours(a["budget_core_hours"]), f"{a['used_core_hours']:.4f}",
             f"{a['mine_core_hours']:.4f}", hours(a["remaining_core_hours"]),
             hours(a.get("running_core_hours"), "-"), hours(a.get("mine_running_core_hours"), "-"))
            for a in report["allocations"]
        ],
        ("ALLOCATION", "BUDGET", "USED (ALL)", "USED (YOU)", "REMAINING",
         "RUNNING (ALL)", "RUNNING (YOU)"),
    )  # fmt: skip
    if any(a.get("running_core_hours") is not None for a in report["allocations"]):
        print("RUNNING = running (not yet charged): what running jobs have used so far; "
              "REMAINING and budget checks count charged core-hours only.")  # fmt: skip
    for note in report.get("running_notes", []):
        print(f"note: {note}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from genesis_lab.compute.doctor import run_doctor

    if args.security:
        from genesis_lab.hub.config import hub_plan
        from genesis_lab.hub.security import security_checks

        checks = security_checks(hub_plan(), args.as_user)
    else:
        checks = run_doctor(args.allocation, job=args.job)
    if args.json:
        print_json([c.to_dict() for c in checks])
    else:
        print_table(
            [("ok" if c.ok else "FAIL", c.name, c.detail + (f"  -> {c.fix}" if not c.ok and c.fix else ""))
             for c in checks],
            ("", "CHECK", "DETAIL"),
        )  # fmt: skip
    return 0 if all(c.ok for c in checks) else 1
