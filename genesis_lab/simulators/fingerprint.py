"""The identity of the code behind a simulator or loader: distribution version and source digest.

Cache keys (the sweep's chunks, the runner's runs) include it, so a changed simulator misses the
cache even when its declared ``version`` stays the same. The digest covers the source files of
every module in the class's method resolution order (a simulator's own module and
``simulators/base.py``), or a function's module; the files are read on every call, as a kernel
started now would import them.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["code_fingerprint"]


@functools.lru_cache(maxsize=64)
def _distribution_of(top: str, path: tuple[str, ...]) -> tuple[str, str]:
    # the distribution named like the package (genesis_lab -> genesis-lab), else one whose
    # top_level.txt lists it; reading every RECORD (packages_distributions) takes seconds
    try:
        dist = metadata.distribution(top)
        return dist.metadata["Name"], dist.version
    except metadata.PackageNotFoundError:
        pass
    for dist in metadata.distributions(path=list(path)):
        if top in (dist.read_text("top_level.txt") or "").split():
            return dist.metadata["Name"], dist.version
    return "", ""


def _distribution(module: str) -> tuple[str, str]:
    return _distribution_of(module.split(".", 1)[0], tuple(sys.path))


def _modules(obj: Any) -> list[str]:
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        names = [obj.__module__]
    else:
        cls = obj if isinstance(obj, type) else type(obj)
        names = [c.__module__ for c in cls.__mro__ if c.__module__ != "builtins"]
        loader = getattr(obj, "loader", None)  # a PackageDataset: its loader function's module
        if callable(loader) and hasattr(loader, "__module__"):
            names.insert(0, loader.__module__)
    return list(dict.fromkeys(names))


def _inline_source(obj: Any) -> bytes:
    # a class defined in a notebook or __main__ has no file: its own source is what can be hashed
    try:
        return inspect.getsource(
            obj if isinstance(obj, type) or callable(obj) else type(obj)
        ).encode()
    except (OSError, TypeError):
        return b""


def code_fingerprint(obj: Any) -> dict[str, str]:
    """Distribution, version and sha256 of the source of ``obj`` (a class, instance or function).

    >>> from genesis_lab.simulators.nuclear_energy import PointKinetics
    >>> fp = code_fingerprint(PointKinetics)
    >>> fp["distribution"], len(fp["sha256"])
    ('genesis-lab', 64)
    """
    names = _modules(obj)
    h = hashlib.sha256()
    for name in names:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None) if module is not None else None
        try:
            source = Path(path).read_bytes() if path else _inline_source(obj)
        except OSError:
            source = _inline_source(obj)
        h.update(f"{name}\0{hashlib.sha256(source).hexdigest()}\n".encode())
    distribution, version = _distribution(names[0]) if names else ("", "")
    return {
        "modules": ",".join(names),
        "distribution": distribution,
        "version": version,
        "sha256": h.hexdigest(),
    }
