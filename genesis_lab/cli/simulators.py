"""``genesis-lab simulator list|show|run``: the simulators in the catalog, from the shell.

``genesis-lab simulator run ID --help`` adds the simulator's parameters and validity domain
(bounds, relations between parameters, notes) to the usual help.
"""

from __future__ import annotations

import argparse
import sys

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulator", help="list, describe and run simulators")
    ssub = p.add_subparsers(dest="simulator_command", metavar="ACTION")
    ssub.required = True

    lst = ssub.add_parser("list", help="every simulator in the catalog")
    lst.add_argument("--domain", help="only this domain")
    add_json_flag(lst)
    lst.set_defaults(func=_list)

    show = ssub.add_parser(
        "show", help="a simulator's parameters, validity domain (bounds, relations) and outputs"
    )
    show.add_argument("id", help="simulator id, for example nuclear-energy/point-kinetics")
    add_json_flag(show)
    show.set_defaults(func=_show)

    run = ssub.add_parser(
        "run",
        help="run a simulator once and print its scalar outputs",
        description="Run a simulator once and print its scalar outputs. Parameters outside "
        "the simulator's validity domain (bounds and relations between parameters) are "
        "refused with the relation they break; `simulator run ID --help` lists them.",
        add_help=False,
    )
    run.add_argument("-h", "--help", action=_SimulatorHelp, help="show this help (and the "
                     "simulator's parameters and validity domain when ID is given) and exit")  # fmt: skip
    run.add_argument("id", help="simulator id")
    run.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (repeatable)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--output", help="also write the full result to this netCDF file")
    add_json_flag(run)
    run.set_defaults(func=_run)


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.simulators.registry import list_simulators

    entries = list_simulators(domain=args.domain)
    if args.json:
        print_json([e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in entries])
    else:
        print_table(
            [(e.id, e.provenance.version, e.title) for e in entries], ("ID", "VERSION", "TITLE")
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.simulators.registry import get_simulator

    sim = get_simulator(args.id)
    if args.json:
        print_json(
            {
                "id": sim.id,
                "version": sim.version,
                "title": sim.title,
                "description": sim.description,
                "parameters": [p.to_dict() for p in sim.parameters],
                "outputs": [
                    {
                        "name": o.name,
                        "unit": o.unit,
                        "description": o.description,
                        "scalar": o.scalar,
                    }
                    for o in sim.outputs
                ],
                "references": list(sim.references),
                "validity": sim.validity(),
            }
        )
        return 0
    print(f"{sim.id} (version {sim.version}): {sim.title}")
    print(sim.description)
    _print_schema(sim)
    print("\nOutputs:")
    print_table(
        [(o.name, o.unit, "scalar" if o.scalar else "profile", o.description) for o in sim.outputs],
        ("NAME", "UNIT", "KIND", "DESCRIPTION"),
    )
    print("\nReferences:")
    for ref in sim.references:
        print(f"  {ref}")
    return 0


def _print_schema(sim) -> None:
    print("\nParameters:")
    print_table(
        [(p.name, p.type, p.unit, p.describe_allowed(), p.default) for p in sim.parameters],
        ("NAME", "TYPE", "UNIT", "ALLOWED", "DEFAULT"),
    )
    print("\nValid where (refused otherwise):")
    for r in sim.relations:
        print(f"  {r.text}: {r.why}" if r.why else f"  {r.text}")
    if not sim.relations:
        print("  every parameter within its bounds (no relation between parameters)")
    for note in sim.validity_notes:
        print(f"  note: {note}")


class _SimulatorHelp(argparse.Action):
    """``--help``: the usual help, then the named simulator's schema and validity domain."""

    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        sim_id = getattr(namespace, "id", None)
        if sim_id:
            from genesis_lab.errors import GenesisError
            from genesis_lab.simulators.registry import get_simulator

            try:
                sim = get_simulator(sim_id)
            except GenesisError as exc:
                print(f"\n{exc}", file=sys.stderr)
                parser.exit(1)
            print(f"\n{sim.id} (version {sim.version}): {sim.title}")
            _print_schema(sim)
            print("\nSet a parameter with -p NAME VALUE, for example "
                  f"-p {sim.parameters[0].name} {sim.parameters[0].default}")  # fmt: skip
        else:
            print("\nGive a simulator id before --help to see its parameters and validity "
                  "domain (genesis-lab simulator list shows the ids).")  # fmt: skip
        parser.exit(0)


def _parse_value(raw: str):
    import json

    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return json.loads(lowered)
    return raw


def _run(args: argparse.Namespace) -> int:
    import json

    from genesis_lab.simulators.registry import get_simulator

    sim = get_simulator(args.id)
    params = {name: _parse_value(value) for name, value in args.param}
    ds = sim.run(params, seed=args.seed)
    scalars = {
        name: {"value": float(ds[name]), "unit": ds[name].attrs.get("units", "")}
        for name in sim.scalar_outputs()
        if name in ds and ds[name].ndim == 0
    }
    if args.output:
        ds.to_netcdf(args.output, engine="h5netcdf")
    if args.json:
        print_json(
            {
                "simulator": sim.id,
                "version": sim.version,
                "seed": args.seed,
                "parameters": json.loads(ds.attrs["parameters"]),
                "outputs": scalars,
            }
        )
    else:
        print_table(
            [(k, f"{v['value']:.6g}", v["unit"]) for k, v in scalars.items()],
            ("OUTPUT", "VALUE", "UNIT"),
        )
    return 0
