"""Where catalog entries come from: plugins, site YAML folders, and challenge folders.

Each source yields entries and collects the errors of the entries it could not validate, so one
bad entry never hides the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from genesis_lab.catalog.entry import Entry, entry_from_mapping
from genesis_lab.catalog.registry import GROUPS, plugin_entries
from genesis_lab.errors import EntryValidationError

if TYPE_CHECKING:
    from genesis_lab.settings import Settings

__all__ = [
    "challenge_entries",
    "plugin_source",
    "source_files",
    "sources_fingerprint",
    "yaml_file_entries",
    "yaml_folder_entries",
]

CHALLENGE_PUBLISHER = {"name": "Genesis Mission"}
CHALLENGE_CONTACT = {"fn": "Genesis Mission help desk", "hasEmail": "help@genesis-lab.invalid"}


def plugin_source() -> Iterator[Entry]:
    """Entries of every installed dataset, model and simulator plugin."""
    for kind in GROUPS:
        yield from plugin_entries(kind)


def yaml_file_entries(path: Path, errors: list[EntryValidationError]) -> Iterator[Entry]:
    """Entries of one catalog YAML file: a list, or a mapping with an ``entries`` list."""
    source = str(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        errors.append(
            EntryValidationError(f"{source}: cannot be read as YAML: {exc}", source=source)
        )
        return
    if doc is None:
        return
    items: Any = doc.get("entries", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        errors.append(
            EntryValidationError(
                f"{source}: 'entries' must be a list of entry mappings", source=source
            )
        )
        return
    for i, item in enumerate(items):
        try:
            entry = entry_from_mapping(item, source=source, position=f"#{i + 1}")
        except EntryValidationError as exc:
            errors.append(exc)
            continue
        yield entry.model_copy(update={"source_file": source})


def _yaml_files(folder: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file below a site catalog folder, sorted."""
    if not folder.is_dir():
        return []
    return sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")])


def _challenge_specs(folder: Path) -> list[Path]:
    """Every ``<folder>/<id>/challenge.yaml``, sorted."""
    return sorted(folder.glob("*/challenge.yaml")) if folder.is_dir() else []


def yaml_folder_entries(
    folders: Iterable[Path], errors: list[EntryValidationError]
) -> Iterator[Entry]:
    """Entries of every ``*.yaml``/``*.yml`` file below the site catalog folders."""
    for folder in folders:
        for path in _yaml_files(folder):
            yield from yaml_file_entries(path, errors)


def source_files(settings: Settings) -> list[Path]:
    """The site files the catalog is read from (YAML catalogs and challenge specs), sorted.

    >>> from genesis_lab.settings import get_settings
    >>> isinstance(source_files(get_settings()), list)
    True
    """
    files: list[Path] = []
    for folder in [*settings.catalog_paths, settings.user_catalog_dir]:
        if folder is not None:
            files += _yaml_files(folder)
    for folder in settings.challenge_paths:
        files += _challenge_specs(folder)
    return sorted(files)


def sources_fingerprint(settings: Settings) -> tuple[tuple[str, int, int], ...]:
    """What changes when a catalog file is added, removed or edited: each file's path, size and
    modification time. Cheap enough to check on every request (``stat`` calls only).

    >>> from genesis_lab.settings import get_settings
    >>> sources_fingerprint(get_settings()) == sources_fingerprint(get_settings())
    True
    """
    out = []
    for path in source_files(settings):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def challenge_entries(
    folders: Iterable[Path], errors: list[EntryValidationError]
) -> Iterator[Entry]:
    """One ``challenge`` entry per ``<folder>/<id>/challenge.yaml``."""
    for folder in folders:
        for path in _challenge_specs(folder):
            source = str(path)
            try:
                spec = yaml.safe_load(path.read_text()) or {}
            except (OSError, yaml.YAMLError) as exc:
                errors.append(
                    EntryValidationError(f"{source}: not valid YAML: {exc}", source=source)
                )
                continue
            if not isinstance(spec, dict):
                errors.append(EntryValidationError(f"{source}: must be a mapping", source=source))
                continue
            cid = spec.get("id", path.parent.name)
            data = {
                "id": f"{spec.get('domain', '?')}/{cid}",
                "kind": "challenge",
                "domain": spec.get("domain"),
                "title": spec.get("title"),
                "description": spec.get("question"),
                "keyword": spec.get("keywords") or [spec.get("domain", "challenge")],
                "modified": spec.get("modified")
                or dt.date.fromtimestamp(path.stat().st_mtime).isoformat(),
                "publisher": spec.get("publisher", CHALLENGE_PUBLISHER),
                "contactPoint": spec.get("contact_point", CHALLENGE_CONTACT),
                "license": spec.get("license", "BSD-3-Clause"),
                "provenance": {
                    "source": str(path.parent),
                    "agency": spec.get("agency", "Genesis Mission"),
                    "citation": spec.get("citation", f"genesis-lab challenge {cid}"),
                    "version": str(spec.get("version", "1")),
                },
                "marking": spec.get("marking", "public"),
                "loader": "challenge",
                "options": {"challenge": cid, "folder": str(path.parent)},
            }
            try:
                entry = entry_from_mapping(data, source=source, position=cid)
            except EntryValidationError as exc:
                errors.append(exc)
                continue
            yield entry.model_copy(update={"source_file": source})
