"""``genesis-lab model list|show ID|rebuild``: the catalog's models, their cards, and rebuilding."""

from __future__ import annotations

import argparse

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="list and show predictive models; rebuild the shipped ones")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION")
    msub.required = True

    lst = msub.add_parser("list", help="every model in the catalog")
    add_json_flag(lst)
    lst.set_defaults(func=_list)

    show = msub.add_parser("show", help="one model's card (data, features, metrics, limits)")
    show.add_argument("id", help="model id, for example advanced-manufacturing/melt-pool-width-gp")
    add_json_flag(show)
    show.set_defaults(func=_show)

    rb = msub.add_parser(
        "rebuild", help="retrain the shipped models from the platform's simulators and datasets"
    )
    rb.set_defaults(func=_rebuild)


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.catalog import load_catalog

    models = load_catalog(warn=False).search(kind="model")
    if args.json:
        print_json([e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in models])
        return 0
    rows = []
    for e in models:
        metrics = e.provenance.parameters.get("metrics", {})
        r2 = metrics.get("r2")
        rows.append(
            (e.id, e.provenance.parameters.get("kind", ""), f"{r2:.3f}" if r2 else "", e.title)
        )
    print_table(rows, ("ID", "KIND", "R2", "TITLE"))
    return 0


def _show(args: argparse.Namespace) -> int:
    from genesis_lab.models import load_model

    card = load_model(args.id).card
    if args.json:
        print_json(card.to_dict())
    else:
        print(card.to_markdown())
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from genesis_lab.models.build import main

    return main([])
