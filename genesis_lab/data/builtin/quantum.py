"""Quantum-information datasets: CODATA fundamental constants and nuclear spins of isotopes.

CODATA comes from scipy.constants (NIST); spins, g-factors and abundances from mendeleev.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.builtin._sqlite import query
from genesis_lab.data.package import package_dataset
from genesis_lab.errors import DataError

if TYPE_CHECKING:
    import xarray as xr

CODATA_RELEASE = 2022
_RELEASE_TABLE = re.compile(r'^txt(\d{4}) = """\\\n(.*?)"""', re.MULTILINE | re.DOTALL)


def _name_width(year: int) -> int:
    """Width of the name column in NIST's tables of release ``year`` (55 until 2014, then 60)."""
    return 55 if year <= 2014 else 60


@package_dataset(
    id="quantum-information/codata-constants",
    title="CODATA recommended values of the fundamental physical constants",
    description=(
        "The CODATA 2022 recommended constants with their values, standard uncertainties and "
        "units (Planck constant, electron g-factor, Bohr magneton, flux quantum, Josephson and "
        "von Klitzing constants, ...), as distributed by NIST and shipped in scipy.constants. "
        "Constants of earlier releases that CODATA 2022 no longer lists are left out unless "
        "asked for (include_superseded=True); each row's `release` names its CODATA release."
    ),
    keyword=("CODATA", "fundamental constants", "NIST", "Planck", "quantum metrology"),
    package="scipy",
    files=("constants/_codata.py",),
    agency="NIST",
    publisher="NIST Physical Measurement Laboratory",
    contact=("NIST Fundamental Constants Data Center", "constants@nist.gov"),
    citation=(
        "P. J. Mohr, E. Tiesinga, D. B. Newell and B. N. Taylor; CODATA recommended values of "
        "the fundamental physical constants: 2022, Rev. Mod. Phys. 97, 025002 (2025), "
        "https://physics.nist.gov/constants"
    ),
    license="Public domain (US Government work, NIST); scipy is BSD-3-Clause",
    data_version="CODATA 2022",
    modified="2024-05-01",
    units={
        "value": "see variable 'unit'",
        "uncertainty": "see variable 'unit'",
        "unit": "",
        "release": "year",
    },
    options={"include_superseded": False},
)
def codata_constants(files: dict[str, Path], *, include_superseded: bool = False) -> xr.Dataset:
    """One row per constant (its CODATA name) of the CODATA 2022 release; ``unit`` holds each
    constant's unit and ``release`` the CODATA release the value is from.

    The names of each release are read from the release tables of the checksummed
    ``scipy/constants/_codata.py``; ``include_superseded`` adds the constants that only earlier
    releases list, marked with the last release that did.
    """
    import numpy as np
    import xarray as xr
    from scipy import constants

    text = files["scipy/constants/_codata.py"].read_text()
    releases = {
        int(year): [line[: _name_width(int(year))].rstrip() for line in body.splitlines() if line]
        for year, body in _RELEASE_TABLE.findall(text)
    }
    if max(releases, default=0) != CODATA_RELEASE:
        raise DataError(
            f"quantum-information/codata-constants: the installed scipy ships CODATA "
            f"{max(releases, default='(none)')}, not {CODATA_RELEASE}; "
            "pip install 'scipy>=1.15' (the first scipy with CODATA 2022)."
        )
    last: dict[str, int] = {}
    for year in sorted(releases):
        last.update(dict.fromkeys(releases[year], year))
    names = sorted(n for n, year in last.items() if include_superseded or year == CODATA_RELEASE)
    table = constants.physical_constants
    return xr.Dataset(
        {
            "value": ("constant", np.array([table[n][0] for n in names], dtype=float)),
            "uncertainty": ("constant", np.array([table[n][2] for n in names], dtype=float)),
            "unit": ("constant", np.array([table[n][1] for n in names])),
            "release": ("constant", np.array([last[n] for n in names], dtype=int)),
        },
        coords={"constant": names},
        attrs={"codata_release": f"CODATA {CODATA_RELEASE}"},
    )


@package_dataset(
    id="quantum-information/isotope-nuclear-spins",
    title="Nuclear spins, magnetic moments and abundances of isotopes (spin-qubit hosts)",
    description=(
        "Nuclear spin quantum number, parity, g-factor, magnetic dipole moment, electric "
        "quadrupole moment and natural abundance of 3,557 isotopes (IAEA/NNDC evaluations "
        "compiled by Stone and Kondev), for choosing spin-free host lattices (28Si, 12C) and "
        "nuclear-spin qubits (31P, 29Si, 13C)."
    ),
    keyword=("nuclear spin", "magnetic moment", "isotope", "spin qubit", "NMR", "abundance"),
    package="mendeleev",
    files=("elements.db",),
    agency="IAEA Nuclear Data Section / NNDC (Brookhaven National Laboratory)",
    publisher="International Atomic Energy Agency",
    citation=(
        "N. J. Stone, Table of nuclear electric quadrupole moments, INDC(NDS)-0833 (IAEA 2021); "
        "N. J. Stone, Table of recommended nuclear magnetic dipole moments, INDC(NDS)-0794 "
        "(IAEA 2019); F. G. Kondev et al., The NUBASE2020 evaluation, Chin. Phys. C 45 030001"
    ),
    license="mendeleev: MIT; IAEA/NNDC data: free to use with citation",
    modified="2024-05-01",
    units={
        "spin": "1",
        "g_factor": "1",
        "magnetic_moment": "nuclear_magneton",
        "quadrupole_moment": "barn",
        "abundance": "percent",
        "mass": "u",
        "Z": "1",
        "A": "1",
        "parity": "",
        "is_radioactive": "1",
    },
    options={"stable_only": False},
)
def isotope_nuclear_spins(files: dict[str, Path], *, stable_only: bool = False) -> xr.Dataset:
    """One row per isotope (``Si-29``); ``stable_only`` keeps the non-radioactive ones."""
    import numpy as np
    import xarray as xr

    _, symbols = query(files["mendeleev/elements.db"], "SELECT atomic_number, symbol FROM elements")
    by_z = dict(symbols)
    where = "WHERE is_radioactive = 0" if stable_only else ""
    _, rows = query(
        files["mendeleev/elements.db"],
        "SELECT atomic_number, mass_number, mass, abundance, spin, parity, g_factor, "
        f"quadrupole_moment, is_radioactive FROM isotopes {where} "
        "ORDER BY atomic_number, mass_number",
    )

    def spin(text: str | None) -> float:
        try:
            return float(Fraction(str(text).strip("()#~ ")))
        except (ValueError, ZeroDivisionError):
            return np.nan

    def num(v):
        return np.nan if v is None else float(v)

    spins = np.array([spin(r[4]) for r in rows])
    g = np.array([num(r[6]) for r in rows])
    ds = xr.Dataset(
        {
            "Z": ("isotope", np.array([r[0] for r in rows], dtype=np.int16)),
            "A": ("isotope", np.array([r[1] for r in rows], dtype=np.int16)),
            "mass": ("isotope", np.array([num(r[2]) for r in rows])),
            "abundance": ("isotope", np.array([num(r[3]) for r in rows])),
            "spin": ("isotope", spins),
            "parity": ("isotope", np.array([r[5] or "" for r in rows])),
            "g_factor": ("isotope", g),
            "magnetic_moment": ("isotope", g * spins),
            "quadrupole_moment": ("isotope", np.array([num(r[7]) for r in rows])),
            "is_radioactive": ("isotope", np.array([bool(r[8]) for r in rows])),
        },
        coords={"isotope": [f"{by_z[r[0]]}-{r[1]}" for r in rows]},
    )
    ds["magnetic_moment"].attrs["long_name"] = "magnetic dipole moment, g_factor * spin"
    ds["quadrupole_moment"].attrs["long_name"] = "electric quadrupole moment"
    return ds
