"""What a run depends on: input asset versions, package versions, and the cache key over them.

The cache key is the sha256 of notebook bytes, canonical parameters, inputs and package versions.
A simulator input carries ``code_sha256``, the digest of the module that implements it, so a
changed simulator changes the key.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from genesis_lab.errors import PipelineError, UnknownAssetError
from genesis_lab.pipelines.challenge import Challenge

__all__ = ["BASE_PACKAGES", "cache_key", "code_sha256", "input_versions", "package_versions"]

BASE_PACKAGES: tuple[str, ...] = (
    "genesis-lab",
    "papermill",
    "nbclient",
    "ipykernel",
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "holoviews",
    "bokeh",
)
"""Packages whose versions every run records (a challenge adds its own in ``packages``)."""


@functools.cache
def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of :data:`BASE_PACKAGES` plus ``extra`` (absent ones omitted), and Python.

    >>> "papermill" in package_versions()
    True
    """
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in sorted({*BASE_PACKAGES, *extra}):
        version = _version(name)
        if version is not None:
            out[name] = version
    return out


def code_sha256(source: str) -> str | None:
    """sha256 of the source file of ``module:qualname`` (a simulator's ``provenance.source``).

    The module is located, not imported. None when it has no source file.

    >>> len(code_sha256("genesis_lab.pipelines.provenance:code_sha256"))
    64
    """
    module = source.split(":", 1)[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()


def input_versions(challenge: Challenge) -> list[dict[str, Any]]:
    """Catalog id, kind, version and sha256 of every dataset, simulator and model the challenge uses.

    Simulators also carry ``code_sha256`` (see :func:`code_sha256`).
    """
    if not (challenge.datasets or challenge.simulators or challenge.models):
        return []
    from genesis_lab.catalog import get_catalog

    cat = get_catalog()
    out = []
    for kind, ids in (
        ("dataset", challenge.datasets),
        ("simulator", challenge.simulators),
        ("model", challenge.models),
    ):
        for asset_id in ids:
            try:
                entry = cat.get(asset_id)
            except UnknownAssetError as exc:
                raise PipelineError(
                    f"challenge {challenge.id!r} uses {kind} {asset_id!r}, which is not in the "
                    f"catalog: {exc}"
                ) from None
            item = {
                "id": asset_id,
                "kind": kind,
                "title": entry.title,
                "version": entry.provenance.version,
                "sha256": entry.provenance.sha256,
                "source": entry.provenance.source,
                "license": entry.license,
            }
            if kind == "simulator":
                item["code_sha256"] = code_sha256(entry.provenance.source)
            out.append(item)
    return out


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def cache_key(
    notebook: bytes,
    parameters: dict[str, Any],
    inputs: list[dict[str, Any]],
    packages: dict[str, str],
) -> str:
    """sha256 over everything that decides a run's result.

    >>> len(cache_key(b"{}", {"n": 1}, [], {"numpy": "2.0"}))
    64
    """
    h = hashlib.sha256()
    for part in (notebook, canonical_json(parameters).encode(), canonical_json(inputs).encode()):
        h.update(hashlib.sha256(part).digest())
    h.update(hashlib.sha256(canonical_json(packages).encode()).digest())
    return h.hexdigest()
