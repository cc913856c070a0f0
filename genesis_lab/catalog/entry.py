"""A catalog entry: DCAT-US metadata, provenance and an access marking for one asset.

Entries are data; the code that loads an asset is a plugin named by ``loader``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesis_lab.errors import EntryValidationError

if TYPE_CHECKING:
    from genesis_lab.settings import DcatSettings

__all__ = [
    "ACCESS_LEVEL",
    "DOMAINS",
    "KINDS",
    "MARKINGS",
    "ContactPoint",
    "Distribution",
    "Entry",
    "Provenance",
    "Publisher",
    "entry_from_mapping",
]

DOMAINS: tuple[str, ...] = (
    "advanced-manufacturing",
    "biotechnology",
    "critical-materials",
    "nuclear-energy",
    "quantum-information",
    "semiconductors",
)
"""The six Genesis Mission domains; ``nuclear-energy`` covers fission and fusion."""

KINDS: tuple[str, ...] = ("dataset", "model", "simulator", "challenge")

MARKINGS: tuple[str, ...] = ("public", "controlled", "proprietary", "export-controlled")
"""Access markings, from least to most restricted."""

ACCESS_LEVEL: dict[str, str] = {
    "public": "public",
    "controlled": "restricted public",
    "proprietary": "non-public",
    "export-controlled": "non-public",
}
"""DCAT-US ``accessLevel`` for each marking."""

Domain = Literal[
    "advanced-manufacturing",
    "biotechnology",
    "critical-materials",
    "nuclear-energy",
    "quantum-information",
    "semiconductors",
]
Kind = Literal["dataset", "model", "simulator", "challenge"]
Marking = Literal["public", "controlled", "proprietary", "export-controlled"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Publisher(_Model):
    """The organisation that publishes the asset (DCAT-US ``publisher``)."""

    name: str = Field(min_length=1)


class ContactPoint(_Model):
    """Who to ask about the asset (DCAT-US ``contactPoint``, a vCard)."""

    fn: str = Field(min_length=1, description="Full name of the contact.")
    has_email: str = Field(alias="hasEmail", pattern=r"^(mailto:)?[^@\s]+@[^@\s]+$")


class Distribution(_Model):
    """One way to get the asset's bytes (DCAT-US ``distribution``)."""

    download_url: str | None = Field(None, alias="downloadURL")
    access_url: str | None = Field(None, alias="accessURL")
    media_type: str | None = Field(None, alias="mediaType")
    format: str | None = Field(
        None, description="Loader format: netcdf, zarr, csv, parquet, or a plugin name."
    )
    title: str | None = None


class Provenance(_Model):
    """Where the asset came from, and the checksum of its source bytes."""

    source: str = Field(min_length=1, description="Package, file or URL the bytes come from.")
    agency: str = Field(min_length=1, description="The agency or body that produced the data.")
    citation: str = Field(min_length=1)
    version: str = Field(min_length=1)
    sha256: str | None = Field(None, description="sha256 (hex) of the source bytes.")
    derived_from: tuple[str, ...] = Field(
        (), description="Ids of catalog entries this asset was made from."
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Parameters that produced a derived asset."
    )

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value):
            raise ValueError("must be 64 lowercase hexadecimal characters (a sha256 digest)")
        return value


class Entry(_Model):
    """A catalog entry.

    >>> from genesis_lab.catalog import Entry
    >>> e = Entry(id="semiconductors/demo", kind="dataset", domain="semiconductors",
    ...     title="Demo", description="A demo.", keyword=["demo"], modified="2026-01-01",
    ...     publisher={"name": "NIST"}, contact_point={"fn": "Help", "hasEmail": "help@nist.gov"},
    ...     license="https://creativecommons.org/publicdomain/zero/1.0/",
    ...     provenance={"source": "demo", "agency": "NIST", "citation": "demo", "version": "1"})
    >>> e.access_level
    'public'
    """

    id: str = Field(description="``domain/name``, lowercase.")
    kind: Kind
    domain: Domain
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    keyword: tuple[str, ...] = Field(min_length=1)
    modified: dt.date
    publisher: Publisher
    contact_point: ContactPoint = Field(alias="contactPoint")
    identifier: str | None = Field(None, description="Globally unique id; defaults to ``id``.")
    license: str = Field(min_length=1)
    distribution: tuple[Distribution, ...] = ()
    provenance: Provenance
    marking: Marking = "public"
    loader: str | None = Field(
        None, description="Entry-point name of the plugin that loads the asset, if any."
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Arguments for the loader.")
    units: dict[str, str] = Field(default_factory=dict, description="Variable -> unit.")
    source_file: str | None = Field(None, description="The YAML file the entry was read from.")

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "must look like 'domain/name': lowercase letters, digits and '-', "
                "a single '/', then letters, digits, '.', '_' or '-'"
            )
        return value

    @field_validator("keyword", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @property
    def access_level(self) -> str:
        """DCAT-US ``accessLevel`` derived from the marking, so the two never disagree."""
        return ACCESS_LEVEL[self.marking]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    def text(self) -> str:
        """The lowercase text searched by :meth:`Catalog.search`."""
        return " ".join(
            [self.id, self.title, self.description, " ".join(self.keyword), self.publisher.name]
        ).lower()

    def to_dcat(
        self, *, include_distribution: bool = True, site: DcatSettings | None = None
    ) -> dict[str, Any]:
        """This entry as a DCAT-US 1.1 dataset object (JSON-ready).

        Bureau and program codes and the contact replacing a placeholder one (an address under
        ``.invalid``) come from ``site`` (default: the site file's ``dcat`` section); the licence
        statement becomes a licence URL and, where it restricts use, ``rights``
        (:func:`genesis_lab.catalog.license.dcat_license`).

        >>> from genesis_lab.settings import DcatSettings
        >>> e = Entry(id="semiconductors/demo", kind="dataset", domain="semiconductors",
        ...     title="Demo", description="A demo.", keyword=["demo"], modified="2026-01-01",
        ...     publisher={"name": "NIST"}, contact_point={"fn": "Help", "hasEmail": "h@x.gov"},
        ...     license="CC0-1.0", provenance={"source": "demo", "agency": "NIST",
        ...     "citation": "demo", "version": "1"})
        >>> e.to_dcat(site=DcatSettings(bureau_code=["019:20"]))["bureauCode"]
        ['019:20']
        """
        from genesis_lab.catalog.license import dcat_license
        from genesis_lab.settings import get_settings

        site = site or get_settings().dcat
        contact = self.contact_point
        if site.contact_point and contact.has_email.lower().endswith(".invalid"):
            contact = ContactPoint(fn=site.contact_point.fn, hasEmail=site.contact_point.has_email)
        email = contact.has_email
        terms = dcat_license(self.license)
        programs = site.program_code_by_domain.get(self.domain, site.program_code)
        out: dict[str, Any] = {
            "@type": "dcat:Dataset",
            "title": self.title,
            "description": self.description,
            "keyword": list(self.keyword),
            "modified": self.modified.isoformat(),
            "publisher": {"@type": "org:Organization", "name": self.publisher.name},
            "contactPoint": {
                "@type": "vcard:Contact",
                "fn": contact.fn,
                "hasEmail": email if email.startswith("mailto:") else f"mailto:{email}",
            },
            "identifier": self.identifier or self.id,
            "accessLevel": self.access_level,
            "theme": [self.domain],
        }
        if site.bureau_code:
            out["bureauCode"] = list(site.bureau_code)
        if programs:
            out["programCode"] = list(programs)
        if terms.license:
            out["license"] = terms.license
        if terms.rights:
            out["rights"] = terms.rights
        if include_distribution and self.distribution:
            out["distribution"] = [
                {"@type": "dcat:Distribution"}
                | d.model_dump(by_alias=True, exclude_none=True, exclude={"format"})
                | ({"format": d.format} if d.format else {})
                for d in self.distribution
            ]
        return out

    def _repr_html_(self) -> str:
        from genesis_lab.catalog.html_view import html_card

        prov = self.provenance
        rows: list[tuple[str, object]] = [
            ("description", self.description),
            ("access", f"{self.marking} ({self.access_level})"),
            ("keywords", ", ".join(self.keyword)),
            ("publisher", self.publisher.name),
            ("license", self.license),
            ("source", f"{prov.source} (version {prov.version})"),
            ("citation", prov.citation),
        ]
        if prov.sha256:
            rows.append(("sha256", prov.sha256))
        if prov.derived_from:
            rows.append(("derived from", ", ".join(prov.derived_from)))
        if self.units:
            rows.append(("units", ", ".join(f"{k} [{v}]" for k, v in self.units.items())))
        subtitle = f"{self.id} · {self.kind} · {self.domain} · modified {self.modified}"
        return html_card(self.title, rows, subtitle=subtitle)

    def attrs(self) -> dict[str, str]:
        """Flat metadata and provenance for ``xarray`` ``attrs`` (netCDF-safe strings)."""
        out = {
            "genesis_id": self.id,
            "title": self.title,
            "description": self.description,
            "keywords": ", ".join(self.keyword),
            "domain": self.domain,
            "publisher": self.publisher.name,
            "license": self.license,
            "access_marking": self.marking,
            "access_level": self.access_level,
            "modified": self.modified.isoformat(),
            "provenance_source": self.provenance.source,
            "provenance_agency": self.provenance.agency,
            "provenance_citation": self.provenance.citation,
            "provenance_version": self.provenance.version,
        }
        if self.provenance.sha256:
            out["provenance_sha256"] = self.provenance.sha256
        if self.provenance.derived_from:
            out["provenance_derived_from"] = ", ".join(self.provenance.derived_from)
        return out


def entry_from_mapping(data: Any, *, source: str = "<mapping>", position: str = "") -> Entry:
    """Validate one entry, raising :class:`EntryValidationError` naming source, entry and field."""
    name = data.get("id", position or "?") if isinstance(data, dict) else position or "?"
    if not isinstance(data, dict):
        raise EntryValidationError(
            f"{source}: entry {name}: must be a mapping of fields, got {type(data).__name__}",
            source=source,
            entry=str(name),
        )
    try:
        entry = Entry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "entry"
        allowed = _allowed(first["loc"])
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise EntryValidationError(
            f"{source}: entry {name!r}: field {field!r} is invalid ({problems}){allowed}",
            source=source,
            entry=str(name),
            field=field,
        ) from None
    return entry


def _allowed(loc: tuple[Any, ...]) -> str:
    choices = {"kind": KINDS, "domain": DOMAINS, "marking": MARKINGS}
    if loc and loc[0] in choices:
        return f". Allowed values: {', '.join(choices[loc[0]])}"
    return ""
