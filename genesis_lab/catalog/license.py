"""An entry's licence statement as DCAT-US wants it: a licence URL, and ``rights`` for restrictions.

Statements are an SPDX id, a URL, or clauses separated by ``;`` that name the data's terms and the
licence of the package the bytes ship in (``"Public domain (NIST); scipy is BSD-3-Clause"``,
``"mendeleev: MIT; CRC Handbook values: cite the source"``). Data in the public domain get the
Public Domain Mark; data whose terms name a URL get that URL; other data are published under the
package's licence. The data's own terms, which restrict use, are kept word for word as ``rights``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["PUBLIC_DOMAIN", "DcatLicense", "dcat_license", "spdx_url"]

PUBLIC_DOMAIN = "https://creativecommons.org/publicdomain/mark/1.0/"
"""Creative Commons Public Domain Mark 1.0: works free of known copyright (US Government works)."""

_URL = re.compile(r"^https?://\S+$")
_URL_IN = re.compile(r"https?://[^\s,;)]+")
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
# "<package> is <SPDX>", "<package> code is <SPDX>", "<package> package is <SPDX>", "<package>: <SPDX>"
_PACKAGE_CLAUSE = re.compile(
    r"^(?P<package>[\w.-]+)(?: code| package)?(?: is|:)\s+(?P<spdx>[A-Za-z0-9][A-Za-z0-9.+-]*)$"
)
_KNOWN_SPDX = frozenset(
    {"0BSD", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC-BY-4.0", "CC0-1.0", "ISC",
     "LGPL-3.0-or-later", "MIT", "MPL-2.0", "GPL-3.0-or-later", "PSF-2.0"}
)  # fmt: skip


class DcatLicense(NamedTuple):
    """DCAT-US ``license`` (a URL, or None when none can be named) and ``rights`` (or None)."""

    license: str | None
    rights: str | None


def spdx_url(identifier: str) -> str:
    """The SPDX licence page of ``identifier``.

    >>> spdx_url("MIT")
    'https://spdx.org/licenses/MIT.html'
    """
    return f"https://spdx.org/licenses/{identifier}.html"


def dcat_license(statement: str) -> DcatLicense:
    """The DCAT-US licence URL and rights of a licence statement.

    >>> dcat_license("Public domain (US Government work, NIST); scipy is BSD-3-Clause")
    DcatLicense(license='https://creativecommons.org/publicdomain/mark/1.0/', rights=None)
    >>> dcat_license("ICRP data: not-for-profit use (https://x.org/L); radioactivedecay is MIT")
    DcatLicense(license='https://x.org/L', rights='ICRP data: not-for-profit use (https://x.org/L)')
    """
    text = statement.strip()
    if _URL.match(text):
        return DcatLicense(text, None)
    if _SPDX.match(text):
        return DcatLicense(spdx_url(text), None)
    data: list[str] = []
    packages: list[str] = []
    for clause in (c.strip() for c in text.split(";")):
        match = _PACKAGE_CLAUSE.match(clause)
        if match and match["spdx"] in _KNOWN_SPDX:
            packages.append(match["spdx"])
        elif clause:
            data.append(clause)
    if data and all(c.lower().startswith("public domain") for c in data):
        return DcatLicense(PUBLIC_DOMAIN, None)
    rights = "; ".join(data) or None
    named = [m.group(0) for c in data if (m := _URL_IN.search(c))]
    if named:
        return DcatLicense(named[0], rights)
    return DcatLicense(spdx_url(packages[0]) if packages else None, rights)
