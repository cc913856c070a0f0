"""``genesis-lab campaign run|list|status NAME|export NAME``: campaigns over a simulator's space."""

from __future__ import annotations

import argparse
from typing import Any

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("campaign", help="run, inspect and export closed-loop campaigns")
    csub = p.add_subparsers(dest="campaign_command", metavar="ACTION")
    csub.required = True

    run = csub.add_parser("run", help="run (or resume) a campaign over a simulator")
    run.add_argument("simulator", help="simulator id, for example biotechnology/michaelis-menten")
    run.add_argument(
        "--objective",
        action="append",
        required=True,
        metavar="OUTPUT[:min|max]",
        help="an output to optimise (repeat for several); minimised unless ':max'",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME[=LO:HI]",
        help="a parameter to explore (repeat); all of them if none; LO:HI narrows its bounds",
    )
    run.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE",
                     help="hold a parameter at a value")  # fmt: skip
    run.add_argument("--constraint", action="append", default=[], metavar="OUTPUT<=BOUND",
                     help="keep an output <= or >= a bound")  # fmt: skip
    run.add_argument("--policy", default="bayes", choices=["bayes", "random", "grid", "tpe"])
    run.add_argument("--budget", type=int, default=20, help="number of trials (default 20)")
    run.add_argument("--batch-size", type=int, default=1, help="trials per round (default 1)")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--name", default=None, help="campaign name; an existing one resumes")
    run.add_argument("--cluster", action="store_true",
                     help="run batches on the session's cluster (genesis_lab.compute.cluster())")  # fmt: skip
    add_json_flag(run)
    run.set_defaults(func=_run)

    lst = csub.add_parser("list", help="campaigns in the store")
    add_json_flag(lst)
    lst.set_defaults(func=_list)

    st = csub.add_parser("status", help="progress and best result of a campaign")
    st.add_argument("name")
    add_json_flag(st)
    st.set_defaults(func=_status)

    ex = csub.add_parser("export", help="the campaign's trials as a dataset with provenance")
    ex.add_argument("name")
    ex.add_argument("--output", help="write a netCDF file here")
    ex.add_argument("--dataset-id", help="register it in the catalog under this id (domain/name)")
    add_json_flag(ex)
    ex.set_defaults(func=_export)


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _run(args: argparse.Namespace) -> int:
    from genesis_lab.agents import Campaign, Space
    from genesis_lab.errors import CampaignError
    from genesis_lab.simulators import get_simulator

    sim = get_simulator(args.simulator)
    fixed = {}
    for item in args.fixed:
        name, sep, value = item.partition("=")
        if not sep:
            raise CampaignError(f"--fixed {item!r}: write NAME=VALUE")
        fixed[name] = _value(value)
    names = [p.partition("=")[0] for p in args.param] or None
    space = Space.from_simulator(sim, include=names, fixed=fixed)
    dims = list(space.dimensions)
    for item in args.param:
        name, sep, rng = item.partition("=")
        if sep:
            lo, _, hi = rng.partition(":")
            from dataclasses import replace

            i = space.names.index(name)
            dims[i] = replace(dims[i], bounds=(float(lo), float(hi)))
    space = Space(tuple(dims), fixed)
    objective = {}
    for item in args.objective:
        name, _, direction = item.partition(":")
        objective[name] = direction or "min"
    constraints = {}
    for item in args.constraint:
        op = "<=" if "<=" in item else ">=" if ">=" in item else None
        if op is None:
            raise CampaignError(f"--constraint {item!r}: write OUTPUT<=BOUND or OUTPUT>=BOUND")
        name, bound = item.split(op)
        constraints[name] = (op, float(bound))
    campaign = Campaign(space, objective, args.policy, batch_size=args.batch_size,
                        budget=args.budget, experiment=sim, constraints=constraints or None,
                        name=args.name, seed=args.seed)  # fmt: skip
    campaign.run("session" if args.cluster else None)
    return _print_status(campaign.status(), args.json)


def _print_status(status: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print_json(status)
        return 0
    for key in ("name", "policy", "budget", "batch_size", "trials", "complete", "failed"):
        print(f"{key}: {status[key]}")
    if "best" in status:
        print(f"best: {status['best']}")
    else:
        print("pareto front:")
        for t in status["pareto_front"]:
            print(f"  {t['values']}  {t['params']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.agents.campaign import Campaign
    from genesis_lab.agents.store import list_campaigns

    rows = [Campaign.open(n).status() for n in list_campaigns()]
    if args.json:
        print_json(rows)
    else:
        print_table([(r["name"], r["policy"], f"{r['trials']}/{r['budget']}", r["failed"])
                     for r in rows], ("NAME", "POLICY", "TRIALS", "FAILED"))  # fmt: skip
    return 0


def _status(args: argparse.Namespace) -> int:
    from genesis_lab.agents.campaign import Campaign

    return _print_status(Campaign.open(args.name).status(), args.json)


def _export(args: argparse.Namespace) -> int:
    from genesis_lab.agents.campaign import Campaign

    campaign = Campaign.open(args.name)
    ds = campaign.to_dataset()
    out: dict[str, Any] = {"name": args.name, "trials": int(ds.sizes.get("trial", 0))}
    if args.output:
        ds.to_netcdf(args.output, engine="h5netcdf")
        out["path"] = args.output
    if args.dataset_id:
        entry = campaign.export(args.dataset_id)
        out["dataset_id"] = entry.id
    if args.json:
        print_json(out | {"variables": sorted(map(str, ds.data_vars)), "attrs": dict(ds.attrs)})
    else:
        print(ds)
    return 0
