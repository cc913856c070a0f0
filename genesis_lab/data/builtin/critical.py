"""Critical-materials datasets: element supply risk (BGS Risk List 2012) and NIST ionisation energies.

Both are read straight from the SQLite database shipped in mendeleev, without importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.builtin._sqlite import query
from genesis_lab.data.package import package_dataset

if TYPE_CHECKING:
    import xarray as xr

_DB = ("elements.db",)

_RISK_UNITS = {
    "production_concentration": "percent",
    "reserve_distribution": "percent",
    "relative_supply_risk": "1",
    "political_stability_of_top_producer": "percent",
    "political_stability_of_top_reserve_holder": "percent",
    "abundance_crust": "mg/kg",
    "abundance_sea": "mg/L",
    "price_per_kg": "USD/kg",
    "atomic_number": "1",
    "recycling_rate": "",
    "substitutability": "",
    "top_3_producers": "",
    "top_3_reserve_holders": "",
}


@package_dataset(
    id="critical-materials/element-supply-risk",
    title="Supply risk of the chemical elements (British Geological Survey risk list)",
    description=(
        "For each element: relative supply risk index (1 very low to 10 very high), production "
        "concentration and reserve distribution in the leading country, political stability of "
        "the top producer and reserve holder, the three largest producers and reserve holders, "
        "recycling rate, substitutability, crustal and sea-water abundance and price. Supply-risk "
        "columns come from the BGS Risk List 2012 as published in the RSC periodic table "
        "(tungsten 9.5, bismuth 9.0, molybdenum 8.6: the 2012 scores, not the 2015 list's)."
    ),
    keyword=("critical materials", "supply risk", "rare earths", "BGS", "recycling", "mining"),
    package="mendeleev",
    files=_DB,
    agency="British Geological Survey",
    publisher="British Geological Survey / Royal Society of Chemistry",
    citation=(
        "British Geological Survey, Risk List 2012 (NERC); Royal Society of Chemistry periodic "
        "table data; L. M. Mentel, mendeleev - a Python resource for properties of chemical "
        "elements, ions and isotopes (2014-)"
    ),
    license="mendeleev: MIT; BGS Risk List: Open Government Licence / RSC terms, cite the source",
    data_version="BGS Risk List 2012",
    modified="2024-05-01",
    units=_RISK_UNITS,
)
def element_supply_risk(files: dict[str, Path]) -> xr.Dataset:
    """One row per element (symbol), numeric columns as floats, text columns as strings."""
    import numpy as np
    import xarray as xr

    cols = ["symbol", "name", *_RISK_UNITS]
    names, rows = query(
        files["mendeleev/elements.db"],
        f"SELECT {', '.join(dict.fromkeys(cols))} FROM elements ORDER BY atomic_number",
    )
    table = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    data = {}
    for name, unit in _RISK_UNITS.items():
        values = table[name]
        if unit == "":
            data[name] = ("element", np.array(["" if v is None else str(v) for v in values]))
        else:
            data[name] = ("element", np.array([np.nan if v is None else v for v in values], float))
    data["name"] = ("element", np.array(table["name"]))
    ds = xr.Dataset(data, coords={"element": table["symbol"]})
    ds["atomic_number"] = ds["atomic_number"].astype(np.int16)
    ds["name"].attrs["units"] = ""
    return ds


@package_dataset(
    id="critical-materials/ionization-energies",
    title="Ionisation energies of the elements and their ions (NIST Atomic Spectra Database)",
    description=(
        "Successive ionisation energies of every element, from the neutral atom to the bare "
        "nucleus where measured or computed, with uncertainties, from the NIST Atomic Spectra "
        "Database. Used in separation chemistry of rare earths and plasma processing."
    ),
    keyword=("ionisation energy", "ionization energy", "NIST ASD", "rare earths", "atomic data"),
    package="mendeleev",
    files=_DB,
    agency="NIST",
    publisher="NIST Physical Measurement Laboratory",
    contact=("NIST Atomic Spectra Database", "asd@nist.gov"),
    citation=(
        "A. Kramida, Yu. Ralchenko, J. Reader and NIST ASD Team, NIST Atomic Spectra Database "
        "(ver. 5.x), https://physics.nist.gov/asd, National Institute of Standards and Technology"
    ),
    license="Public domain (US Government work, NIST); mendeleev is MIT",
    modified="2024-05-01",
    units={"ionization_energy": "eV", "uncertainty": "eV", "atomic_number": "1"},
    options={"elements": None},
)
def ionization_energies(files: dict[str, Path], *, elements: list[str] | None = None) -> xr.Dataset:
    """Dimensions (element, ion_charge); ``elements`` limits the rows to these symbols."""
    import numpy as np
    import xarray as xr

    _, symbols = query(files["mendeleev/elements.db"], "SELECT atomic_number, symbol FROM elements")
    by_z = dict(symbols)
    _, rows = query(
        files["mendeleev/elements.db"],
        "SELECT atomic_number, ion_charge, ionization_energy, uncertainty FROM ionizationenergies",
    )
    zs = sorted(by_z)
    if elements is not None:
        unknown = sorted(set(elements) - set(by_z.values()))
        if unknown:
            from genesis_lab.errors import ParameterError

            raise ParameterError(
                f"elements: unknown symbol(s) {', '.join(unknown)}; use element symbols such as "
                "'Nd', 'Dy', 'Si'"
            )
        zs = [z for z in zs if by_z[z] in set(elements)]
    zi = {z: i for i, z in enumerate(zs)}
    width = max(r[1] for r in rows) + 1
    energy = np.full((len(zs), width), np.nan)
    unc = np.full((len(zs), width), np.nan)
    for z, q, e, u in rows:
        if z in zi:
            energy[zi[z], q] = np.nan if e is None else e
            unc[zi[z], q] = np.nan if u is None else u
    return xr.Dataset(
        {
            "ionization_energy": (("element", "ion_charge"), energy),
            "uncertainty": (("element", "ion_charge"), unc),
            "atomic_number": ("element", np.array(zs, dtype=np.int16)),
        },
        coords={"element": [by_z[z] for z in zs], "ion_charge": np.arange(width)},
    )
