"""The sha256 pinned for each shipped package dataset, per version of the package that ships it.

The table (``builtin/sha256.json``) is generated and committed: a digest is recorded once, from
files that were reviewed, and every open compares the installed files with it, so a changed file
is caught instead of re-pinned silently. After upgrading a data package, check its data and run
``python -m genesis_lab.data.pins --write``; ``--check`` exits 1 when the table lacks an installed
version or disagrees with it.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.fileio import atomic_write_text

if TYPE_CHECKING:
    from genesis_lab.data.package import PackageDataset

__all__ = ["PINS_FILE", "current_pins", "load_pins", "main", "pin_key", "pinned_sha256"]

PINS_FILE = Path(__file__).parent / "builtin" / "sha256.json"
"""``{dataset id: {"<package> <version>": sha256}}``."""


def pin_key(package: str, version: str) -> str:
    """The key of one package version in the table.

    >>> pin_key("scipy", "1.17.1")
    'scipy 1.17.1'
    """
    return f"{package} {version}"


@functools.cache
def load_pins(path: Path = PINS_FILE) -> dict[str, dict[str, str]]:
    """The committed table (read once per process: it is part of the installed code)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def pinned_sha256(dataset_id: str, package: str, version: str) -> str | None:
    """The digest pinned for ``dataset_id`` as shipped by ``package`` ``version`` (None: none).

    >>> pinned_sha256("semiconductors/no-such-dataset", "pvlib", "0.0") is None
    True
    """
    return load_pins().get(dataset_id, {}).get(pin_key(package, version))


def _builtin_datasets() -> list[PackageDataset]:
    from genesis_lab.catalog.registry import available, load_plugin
    from genesis_lab.data.package import PackageDataset

    found = []
    for dataset_id in sorted(available("dataset")):
        obj = load_plugin("dataset", dataset_id)
        if isinstance(obj, PackageDataset) and obj.loader.__module__.startswith(
            "genesis_lab.data.builtin."
        ):
            found.append(obj)
    return found


def current_pins() -> dict[str, dict[str, str]]:
    """Digests of the installed files of every built-in package dataset, keyed like the table."""
    from genesis_lab.data.checksum import sha256_files

    out: dict[str, dict[str, str]] = {}
    for ds in _builtin_datasets():
        version = ds.version()
        if version is None or ds.package_dir() is None:
            continue
        out[ds.id] = {pin_key(ds.package, version): sha256_files(ds.source_files().items())}
    return out


def _problems(table: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for dataset_id, pins in now.items():
        for key, digest in pins.items():
            recorded = table.get(dataset_id, {}).get(key)
            if recorded is None:
                problems.append(f"{dataset_id}: {key} is not pinned (installed files: {digest})")
            elif recorded != digest:
                problems.append(
                    f"{dataset_id}: {key} is pinned as {recorded} but the installed files have "
                    f"{digest}"
                )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genesis_lab.data.pins [--write | --check]``."""
    parser = argparse.ArgumentParser(prog="python -m genesis_lab.data.pins", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="add the installed versions' digests")
    group.add_argument("--check", action="store_true", help="exit 1 unless the table is current")
    args = parser.parse_args(argv)
    table = {k: dict(v) for k, v in load_pins().items()}
    now = current_pins()
    problems = _problems(table, now)
    if args.write:
        for dataset_id, pins in now.items():
            table.setdefault(dataset_id, {}).update(pins)
        ordered = {k: dict(sorted(table[k].items())) for k in sorted(table)}
        atomic_write_text(PINS_FILE, json.dumps(ordered, indent=2) + "\n", mode=0o644)
        load_pins.cache_clear()
        print(f"{PINS_FILE}: {sum(map(len, ordered.values()))} digests")
        return 0
    for line in problems:
        print(line, file=sys.stderr)
    if args.check:
        return 1 if problems else 0
    print(json.dumps(now, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
