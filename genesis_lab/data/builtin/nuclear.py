"""Nuclear-energy (fission and fusion) datasets: neutron scattering, ICRP-107 decay, activation.

Read from the NIST NCNR tables in periodictable and the ICRP-107 tables in radioactivedecay.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.package import package_dataset

if TYPE_CHECKING:
    import xarray as xr

_NCNR = ("NIST Center for Neutron Research", "ncnr@nist.gov")


def _unique_labels(rows) -> list[str]:
    """``<target> <reaction> <product>``, `` (fast)`` for fission-spectrum data; repeats numbered."""
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        label = f"{r.isotope} {r.reaction} {r.daughter}" + (" (fast)" if r.fast else "")
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _num(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


@package_dataset(
    id="nuclear-energy/neutron-scattering-lengths",
    title="Neutron scattering lengths and cross sections of the elements and isotopes",
    description=(
        "Bound coherent scattering lengths (real and imaginary parts), coherent, incoherent, "
        "total scattering and 2200 m/s absorption cross sections for every element and isotope "
        "in the NIST NCNR table (Sears 1992, updated with Rauch 2003). Used for shielding, "
        "moderator and neutron-imaging calculations."
    ),
    keyword=("neutron", "scattering length", "cross section", "absorption", "isotope", "NIST"),
    package="periodictable",
    files=("nsf.py", "nsf_tables.py"),
    agency="NIST",
    publisher="NIST Center for Neutron Research",
    contact=_NCNR,
    citation=(
        "V. F. Sears, Neutron scattering lengths and cross sections, Neutron News 3(3) 26-37 "
        "(1992); H. Rauch and W. Waschkowski, Landolt-Boernstein I/16A (2003); tabulated by "
        "NIST NCNR, https://www.ncnr.nist.gov/resources/n-lengths/"
    ),
    license="Public domain (US Government work, NIST); periodictable is BSD-3-Clause",
    modified="2024-01-01",
    units={
        "b_c": "fm",
        "b_c_i": "fm",
        "coherent": "barn",
        "incoherent": "barn",
        "total": "barn",
        "absorption": "barn",
        "abundance": "percent",
        "Z": "1",
        "A": "1",
    },
    options={"isotopes": True},
)
def neutron_scattering_lengths(files: dict[str, Path], *, isotopes: bool = True) -> xr.Dataset:
    """One row per element (``A`` = 0, natural abundance) and, with ``isotopes``, per isotope."""
    import numpy as np
    import periodictable
    import xarray as xr

    rows = []
    for el in periodictable.elements:
        if el.number == 0:
            continue
        atoms = [el, *([el[a] for a in el.isotopes] if isotopes else [])]
        for atom in atoms:
            n = getattr(atom, "neutron", None)
            if n is None or n.b_c is None:
                continue
            iso = getattr(atom, "isotope", 0) or 0
            rows.append(
                (
                    f"{el.symbol}-{iso}" if iso else el.symbol,
                    el.number,
                    iso,
                    100.0 if not iso else _num(getattr(atom, "abundance", None)),
                    _num(n.b_c),
                    _num(n.b_c_i),
                    _num(n.coherent),
                    _num(n.incoherent),
                    _num(n.total),
                    _num(n.absorption),
                    bool(n.is_energy_dependent),
                )
            )
    cols = list(zip(*rows, strict=True))
    names = ("b_c", "b_c_i", "coherent", "incoherent", "total", "absorption")
    data = {
        "Z": ("nuclide", np.array(cols[1], dtype=np.int16)),
        "A": ("nuclide", np.array(cols[2], dtype=np.int16)),
        "abundance": ("nuclide", np.array(cols[3])),
        **{k: ("nuclide", np.array(cols[4 + i])) for i, k in enumerate(names)},
        "is_energy_dependent": ("nuclide", np.array(cols[10], dtype=bool)),
    }
    ds = xr.Dataset(data, coords={"nuclide": list(cols[0])})
    ds["b_c"].attrs["long_name"] = "bound coherent scattering length, real part"
    ds["b_c_i"].attrs["long_name"] = "bound coherent scattering length, imaginary part"
    ds["absorption"].attrs["long_name"] = "absorption cross section at 2200 m/s (25.3 meV)"
    ds["is_energy_dependent"].attrs["units"] = "1"
    return ds


@package_dataset(
    id="nuclear-energy/icrp107-decay-data",
    title="ICRP-107 radioactive decay data: half-lives, decay modes and progeny of 1,512 nuclides",
    description=(
        "Half-lives, decay modes, branching fractions and progeny of the 1,252 radionuclides of "
        "ICRP Publication 107 plus stable progeny, with atomic masses from AME2020 and NUBASE2020, "
        "as packaged by radioactivedecay. Used for inventory, decay-heat and waste calculations. "
        "Licence: the ICRP-107 data may be used for educational, research and not-for-profit "
        "purposes only."
    ),
    keyword=("radioactive decay", "half-life", "ICRP-107", "nuclide", "fission products"),
    package="radioactivedecay",
    files=("icrp107_ame2020_nubase2020/decay_data.npz",),
    agency="ICRP (DECDATA written at ORNL)",
    publisher="International Commission on Radiological Protection",
    citation=(
        "ICRP, 2008. Nuclear Decay Data for Dosimetric Calculations. ICRP Publication 107. "
        "Ann. ICRP 38(3); A. Malins and T. Lemoine, radioactivedecay, JOSS 7(71) 3318 (2022)"
    ),
    license=(
        "ICRP-107 data: educational, research and not-for-profit use only (ICRP terms); "
        "radioactivedecay code is MIT"
    ),
    data_version="ICRP-107, AME2020, NUBASE2020",
    modified="2023-01-01",
    units={
        "half_life": "s",
        "branching_fraction": "1",
        "half_life_text": "",
        "progeny": "",
        "decay_mode": "",
    },
)
def icrp107_decay_data(files: dict[str, Path]) -> xr.Dataset:
    """One row per nuclide; progeny, mode and branching fraction along a ``branch`` dimension."""
    import numpy as np
    import radioactivedecay
    import xarray as xr

    data = radioactivedecay.DEFAULTDATA
    nuclides = [str(n) for n in data.nuclides]
    half_life = np.array([data.half_life(n, "s") for n in nuclides], dtype=float)
    width = max(len(p) for p in data.progeny)

    def padded(rows, fill, dtype):
        out = np.full((len(rows), width), fill, dtype=dtype)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    ds = xr.Dataset(
        {
            "half_life": ("nuclide", half_life),
            "half_life_text": ("nuclide", np.array([str(h[2]) for h in data.hldata])),
            "progeny": (("nuclide", "branch"), padded(data.progeny, "", object).astype(str)),
            "decay_mode": (("nuclide", "branch"), padded(data.modes, "", object).astype(str)),
            "branching_fraction": (("nuclide", "branch"), padded(data.bfs, np.nan, float)),
        },
        coords={"nuclide": nuclides, "branch": np.arange(width)},
    )
    ds["half_life"].attrs["long_name"] = "half-life"
    return ds


@package_dataset(
    id="nuclear-energy/neutron-activation",
    title="Thermal-neutron activation reactions of the stable isotopes",
    description=(
        "Target isotope, reaction, product, thermal cross section, resonance integral and product "
        "half-life of every thermal and fast neutron activation reaction in the NIST NCNR "
        "activation table, used to estimate the activation of reactor and fusion-blanket "
        "materials."
    ),
    keyword=("neutron activation", "cross section", "resonance integral", "NIST", "materials"),
    package="periodictable",
    files=("activation.dat",),
    agency="NIST",
    publisher="NIST Center for Neutron Research",
    contact=_NCNR,
    citation=(
        "NIST Center for Neutron Research, Neutron Activation and Scattering Calculator, "
        "https://www.ncnr.nist.gov/resources/activation/ (data after Shleien, Slaback and "
        "Birky, Handbook of Health Physics and Radiological Health, 1998)"
    ),
    license="Public domain (US Government work, NIST); periodictable is BSD-3-Clause",
    modified="2024-01-01",
    units={
        "thermal_cross_section": "barn",
        "resonance_integral": "barn",
        "half_life": "h",
        "abundance": "percent",
        "Z": "1",
        "A": "1",
    },
)
def neutron_activation(files: dict[str, Path]) -> xr.Dataset:
    """One row per reaction of the table, labelled as :func:`_unique_labels` says."""
    import numpy as np
    import periodictable
    import xarray as xr
    from periodictable import activation

    activation.init(periodictable.core.default_table())
    rows = []
    for el in periodictable.elements:
        for a in el.isotopes:
            for r in getattr(el[a], "neutron_activation", ()):
                rows.append(r)
    ds = xr.Dataset(
        {
            "target": ("reaction", np.array([r.isotope for r in rows])),
            "product": ("reaction", np.array([r.daughter for r in rows])),
            "reaction_type": ("reaction", np.array([r.reaction for r in rows])),
            "Z": ("reaction", np.array([r.Z for r in rows], dtype=np.int16)),
            "A": ("reaction", np.array([r.A for r in rows], dtype=np.int16)),
            "abundance": ("reaction", np.array([_num(r.abundance) for r in rows])),
            "fast": ("reaction", np.array([bool(r.fast) for r in rows])),
            "thermal_cross_section": ("reaction", np.array([_num(r.thermalXS) for r in rows])),
            "resonance_integral": ("reaction", np.array([_num(r.resonance) for r in rows])),
            "half_life": ("reaction", np.array([_num(r.Thalf_hrs) for r in rows])),
        },
        coords={"reaction": _unique_labels(rows)},
    )
    ds["comments"] = ("reaction", np.array([r.comments or "" for r in rows]))
    ds["comments"].attrs["units"] = ""
    ds["half_life"].attrs["long_name"] = "half-life of the product"
    for name in ("target", "product", "reaction_type"):
        ds[name].attrs["units"] = ""
    ds["fast"].attrs["units"] = "1"
    return ds
