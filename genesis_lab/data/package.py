"""Datasets read from reference data that a Python package ships inside its wheel.

A :class:`PackageDataset` is a few declarative fields plus one loader function; it describes
itself to the catalog without importing the package, and opens as an ``xarray.Dataset``.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesis_lab.catalog.entry import Entry
from genesis_lab.data.checksum import sha256_files, verify
from genesis_lab.data.pins import pinned_sha256
from genesis_lab.errors import DataError, MissingDependencyError, ParameterError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PackageDataset", "package_dataset"]

Loader = Callable[..., "xr.Dataset"]


@dataclass(frozen=True, eq=False)
class PackageDataset:
    """A catalog dataset whose bytes are files inside an installed package.

    ``files`` are paths (glob patterns allowed) relative to the top-level directory of ``module``.
    The entry's ``provenance.sha256`` is the digest pinned for the installed version of the
    package (``pins``, else the committed table of :mod:`genesis_lab.data.pins`), never one
    computed from the installed files; ``open`` hashes the files and refuses any other digest.
    The ``loader`` is called as ``loader(files, **options)`` where ``files`` maps each relative
    name to its path; its keyword-only parameters are the options ``open_dataset`` accepts.

    >>> from genesis_lab.data.builtin.quantum import codata_constants
    >>> codata_constants.catalog_entry().provenance.agency
    'NIST'
    """

    id: str
    title: str
    description: str
    keyword: tuple[str, ...]
    package: str
    files: tuple[str, ...]
    agency: str
    citation: str
    license: str
    modified: str
    loader: Loader
    units: Mapping[str, str] = field(default_factory=dict)
    module: str = ""
    publisher: str = ""
    contact: tuple[str, str] = ("Genesis Mission data desk", "data@genesis-lab.invalid")
    data_version: str = ""
    marking: str = "public"
    options: Mapping[str, Any] = field(default_factory=dict)
    extra: str = "data"
    pins: Mapping[str, str] = field(default_factory=dict)
    """sha256 per package version (``{"1.2.0": digest}``), for datasets outside the table."""

    @property
    def import_name(self) -> str:
        return self.module or self.package

    @property
    def domain(self) -> str:
        return self.id.split("/", 1)[0]

    def package_dir(self) -> Path | None:
        """The installed package's directory, found without importing it (None: not installed)."""
        spec = importlib.util.find_spec(self.import_name)
        if spec is None:
            return None
        if spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
        return Path(spec.origin).parent if spec.origin else None

    def source_files(self) -> dict[str, Path]:
        """The files the data is read from, by name relative to the package directory."""
        root = self.package_dir()
        if root is None:
            raise MissingDependencyError(self.package, self.extra, purpose=f"open {self.id}")
        found: dict[str, Path] = {}
        for pattern in self.files:
            matches = sorted(root.glob(pattern))
            if not matches:
                raise DataError(
                    f"{self.id}: the package {self.package!r} at {root} has no file matching "
                    f"{pattern!r}; its version may not be one this dataset supports "
                    f"(pip install 'genesis-lab[{self.extra}]' installs one that is)."
                )
            for path in matches:
                found[f"{self.import_name}/{path.relative_to(root).as_posix()}"] = path
        return found

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def pinned_sha256(self, version: str | None = None) -> str | None:
        """The sha256 pinned for ``version`` (default: the installed one); None when none is."""
        version = version or self.version()
        if version is None:
            return None
        return self.pins.get(version) or pinned_sha256(self.id, self.package, version)

    def catalog_entry(self) -> Entry:
        """This dataset's catalog entry; cheap: the package is located, never imported or read."""
        version = self.version()
        digest = self.pinned_sha256(version)
        shown = f"{self.package} {version}" if version else f"{self.package} (not installed)"
        if version and digest is None:
            shown += " (no sha256 pinned for this version)"
        if self.data_version:
            shown += f"; {self.data_version}"
        return Entry.model_validate(
            {
                "id": self.id,
                "kind": "dataset",
                "domain": self.domain,
                "title": self.title,
                "description": self.description,
                "keyword": list(self.keyword),
                "modified": dt.date.fromisoformat(self.modified),
                "publisher": {"name": self.publisher or self.agency},
                "contactPoint": {"fn": self.contact[0], "hasEmail": self.contact[1]},
                "license": self.license,
                "distribution": [
                    {
                        "accessURL": f"https://pypi.org/project/{self.package}/",
                        "format": "package",
                        "title": f"Files inside the {self.package} wheel: {', '.join(self.files)}",
                    }
                ],
                "provenance": {
                    "source": f"python package {self.package}: {', '.join(self.files)}",
                    "agency": self.agency,
                    "citation": self.citation,
                    "version": shown,
                    "sha256": digest,
                },
                "marking": self.marking,
                "loader": self.id,
                "options": dict(self.options),
                "units": dict(self.units),
            }
        )

    def pinned_versions(self) -> list[str]:
        """Versions of the package with a pinned sha256."""
        from genesis_lab.data.pins import load_pins

        table = load_pins().get(self.id, {})
        named = [k.split(" ", 1)[1] for k in table if k.startswith(f"{self.package} ")]
        return sorted({*self.pins, *named})

    def option_names(self) -> list[str]:
        params = list(inspect.signature(self.loader).parameters.values())[1:]
        return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]

    def open(self, entry: Entry, **kwargs: Any) -> xr.Dataset:
        """Read the package files into an ``xarray.Dataset`` after checking their sha256."""
        allowed = self.option_names()
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise ParameterError(
                f"{self.id}: unknown option(s) {', '.join(map(repr, unknown))}. "
                f"Allowed options: {', '.join(allowed) or '(none)'}"
            )
        files = self.source_files()
        if entry.provenance.sha256 is None:
            raise DataError(
                f"{self.id}: no sha256 is pinned for {self.package} {self.version()}, so its "
                f"files cannot be checked. Install a version that is pinned "
                f"({', '.join(self.pinned_versions()) or 'none'}), or review this version's "
                "data and pin it with `python -m genesis_lab.data.pins --write`."
            )
        verify(
            entry.provenance.sha256,
            sha256_files(files.items()),
            what=f"the files of package {self.package} ({', '.join(files)})",
            entry_id=entry.id,
        )
        ds = self.loader(files, **{**entry.options, **kwargs})
        for name, unit in {**self.units, **entry.units}.items():
            if name in ds.variables:
                ds.variables[name].attrs.setdefault("units", unit)
        ds.attrs["provenance_files"] = ", ".join(files)
        return ds


def package_dataset(**fields: Any) -> Callable[[Loader], PackageDataset]:
    """Declare a :class:`PackageDataset` whose loader is the decorated function.

    >>> @package_dataset(id="semiconductors/demo", title="Demo", description="A demo.",
    ...     keyword=("demo",), package="numpy", files=("__init__.py",), agency="NIST",
    ...     citation="demo", license="BSD-3-Clause", modified="2026-01-01")
    ... def demo(files):
    ...     import xarray as xr
    ...     return xr.Dataset()
    >>> demo.catalog_entry().id
    'semiconductors/demo'
    """

    def wrap(loader: Loader) -> PackageDataset:
        return PackageDataset(loader=loader, **fields)

    return wrap
