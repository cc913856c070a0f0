"""The ``genesis-lab`` command line: one sub-command module per area, found in this package.

Each module ``genesis_lab/cli/<name>.py`` has ``register(subparsers)`` that adds its commands and
sets ``func`` on its parsers. Exit codes: 0 success, 1 a genesis-lab error (message on stderr),
2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from genesis_lab import __version__
from genesis_lab.errors import GenesisError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genesis-lab",
        description="The Genesis Mission notebook platform: catalog, simulators, compute, "
        "pipelines and the hub.",
    )
    parser.add_argument("--version", action="version", version=f"genesis-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except GenesisError as exc:
        print(f"genesis-lab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
