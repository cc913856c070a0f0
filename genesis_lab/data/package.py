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
from genesis_lab.errors import DataError, MissingDependencyError, ParameterError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PackageDataset", "package_dataset"]

Loader = Callable[..., "xr.Dataset"]

# (dataset id, package dir, version) -> digest: files inside an installed version do not change,
# and ``open`` re-hashes them (mtime-keyed) anyway, so tampering is still caught there.
_DIGESTS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True, eq=False)
class PackageDataset:
    """A catalog dataset whose bytes are files inside an installed package.

    ``files`` are paths (glob patterns allowed) relative to the top-level directory of ``module``;
    their sha256 is the entry's ``provenance.sha256`` (see :mod:`genesis_lab.data.checksum`).
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

    def catalog_entry(self) -> Entry:
        """This dataset's catalog entry; cheap: the package is located, never imported."""
        version = self.version()
        digest = None
        root = self.package_dir()
        if version is not None and root is not None:
            key = (self.id, str(root), version)
            digest = _DIGESTS.get(key)
            if digest is None:
                digest = _DIGESTS[key] = sha256_files(self.source_files().items())
        shown = f"{self.package} {version}" if version else f"{self.package} (not installed)"
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
