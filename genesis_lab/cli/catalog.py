"""``genesis-lab catalog list|search|show|validate``.

``list``, ``search`` and ``show`` read the same catalog as ``gl.catalog()``: inside a hub session
the genesis service's view for the session's token, elsewhere the local catalog.
"""

from __future__ import annotations

import argparse

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalog", help="list, search and show catalog entries")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    csub.required = True

    def facets(q: argparse.ArgumentParser) -> None:
        from genesis_lab.catalog.entry import DOMAINS, KINDS

        q.add_argument("--domain", choices=DOMAINS, help="only this domain")
        q.add_argument("--kind", choices=KINDS, help="only this kind of asset")
        q.add_argument("--keyword", help="only entries with this keyword")
        add_json_flag(q)

    lst = csub.add_parser("list", help="every entry")
    facets(lst)
    lst.set_defaults(func=_search, text=None)

    srch = csub.add_parser("search", help="entries matching every word of TEXT")
    srch.add_argument("text", nargs="*", help="words to match")
    facets(srch)
    srch.set_defaults(func=_search)

    show = csub.add_parser("show", help="one entry with its metadata and provenance")
    show.add_argument("id", help="entry id, for example nuclear-energy/neutron-scattering-lengths")
    add_json_flag(show)
    show.set_defaults(func=_show)

    val = csub.add_parser("validate", help="load every source and report invalid entries")
    add_json_flag(val)
    val.set_defaults(func=_validate)


def _catalog():
    """The session's catalog, quietly: ``catalog validate`` is where invalid entries are listed."""
    import warnings

    from genesis_lab.catalog import get_catalog
    from genesis_lab.catalog.catalog import CatalogWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)
        return get_catalog()


def _search(args: argparse.Namespace) -> int:
    text = " ".join(args.text) if isinstance(args.text, list) else args.text
    hits = _catalog().search(text, domain=args.domain, kind=args.kind, keyword=args.keyword)
    if args.json:
        print_json([e.model_dump(mode="json", by_alias=True) for e in hits])
    else:
        print_table(
            [(e.id, e.kind, e.marking, e.title) for e in hits], ("ID", "KIND", "MARKING", "TITLE")
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    entry = _catalog().get(args.id)
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    if args.json:
        print_json(data | {"accessLevel": entry.access_level})
        return 0
    for key, value in data.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
    print(f"accessLevel: {entry.access_level}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from genesis_lab.catalog import load_catalog

    cat = load_catalog(warn=False)
    if args.json:
        print_json(
            {
                "entries": len(cat),
                "errors": [
                    {"source": e.source, "entry": e.entry, "field": e.field, "message": str(e)}
                    for e in cat.errors
                ],
            }
        )
    else:
        print(f"{len(cat)} entries loaded, {len(cat.errors)} invalid")
        for err in cat.errors:
            print(f"  {err}")
    return 1 if cat.errors else 0
