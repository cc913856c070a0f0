"""Semiconductor datasets: NIST x-ray attenuation, the ASTM G173 solar spectrum, CEC PV modules.

X-ray tables come from xraydb's SQLite (NIST FFAST, Chantler); the others from pvlib's CSV files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.package import package_dataset
from genesis_lab.errors import ParameterError

if TYPE_CHECKING:
    import xarray as xr

_NREL = ("NREL data help", "pvlib-admin@googlegroups.com")

DEFAULT_XRAY_ELEMENTS: tuple[str, ...] = (
    "B", "C", "N", "O", "Al", "Si", "P", "Ti", "Cu", "Ga", "Ge", "As", "In", "Hf", "Ta", "W",
)  # fmt: skip
"""Elements of silicon, III-V and high-k/metallisation processing."""


@package_dataset(
    id="semiconductors/xray-attenuation",
    title="X-ray mass attenuation coefficients and form factors (NIST FFAST, Chantler)",
    description=(
        "Total and photo-absorption mass attenuation coefficients and anomalous scattering "
        "factors f1, f2 of the elements on an energy grid, from the NIST FFAST tables "
        "(Chantler) in xraydb; for x-ray metrology, lithography and inspection of devices. "
        "Options: elements=[...] (symbols), energy_min/energy_max (eV), n_energies."
    ),
    keyword=("x-ray", "attenuation", "form factor", "NIST", "metrology", "FFAST"),
    package="xraydb",
    files=("xraydb.sqlite",),
    agency="NIST",
    publisher="NIST Physical Measurement Laboratory",
    contact=("NIST FFAST", "chantler@unimelb.edu.au"),
    citation=(
        "C. T. Chantler et al., X-Ray Form Factor, Attenuation and Scattering Tables (version "
        "2.1), NIST Standard Reference Database 66, doi:10.18434/T4HS32; M. Newville, xraydb"
    ),
    license="Public domain (US Government work, NIST SRD 66); xraydb is MIT",
    data_version="NIST SRD 66 (FFAST) in XrayDB 9.2",
    modified="2024-01-01",
    units={
        "energy": "eV",
        "mu_total": "cm^2/g",
        "mu_photo": "cm^2/g",
        "f1": "electron/atom",
        "f2": "electron/atom",
        "Z": "1",
    },
    options={"elements": list(DEFAULT_XRAY_ELEMENTS)},
)
def xray_attenuation(
    files: dict[str, Path],
    *,
    elements: list[str] | str = "all",
    energy_min: float = 1000.0,
    energy_max: float = 100000.0,
    n_energies: int = 200,
) -> xr.Dataset:
    """Dimensions (element, energy); the energy grid is logarithmic, both ends included."""
    import numpy as np
    import xarray as xr
    import xraydb

    if not 0 < energy_min < energy_max:
        raise ParameterError(
            f"energy_min={energy_min} and energy_max={energy_max}: need 0 < energy_min < energy_max (eV)"
        )
    if n_energies < 2:
        raise ParameterError(f"n_energies={n_energies}: must be at least 2")
    symbols = [xraydb.atomic_symbol(z) for z in range(1, 93)]
    chosen = symbols if elements == "all" else [elements] if isinstance(elements, str) else elements
    unknown = [e for e in chosen if e not in symbols]
    if unknown:
        raise ParameterError(
            f"elements: unknown {', '.join(unknown)}; allowed: element symbols H to U (or 'all')"
        )
    energy = np.geomspace(energy_min, energy_max, n_energies)
    tables = {
        "mu_total": [xraydb.mu_chantler(e, energy) for e in chosen],
        "mu_photo": [xraydb.mu_chantler(e, energy, photo=True) for e in chosen],
        "f1": [xraydb.f1_chantler(e, energy) for e in chosen],
        "f2": [xraydb.f2_chantler(e, energy) for e in chosen],
    }
    ds = xr.Dataset(
        {k: (("element", "energy"), np.asarray(v, dtype=float)) for k, v in tables.items()},
        coords={
            "element": chosen,
            "energy": energy,
            "Z": ("element", np.array([symbols.index(e) + 1 for e in chosen], dtype=np.int16)),
        },
    )
    ds["mu_total"].attrs["long_name"] = (
        "mass attenuation coefficient (photo + coherent + incoherent)"
    )
    ds["mu_photo"].attrs["long_name"] = "photo-absorption mass attenuation coefficient"
    return ds


@package_dataset(
    id="semiconductors/astm-g173-spectrum",
    title="ASTM G173-03 reference solar spectral irradiance (AM0, AM1.5 global and direct)",
    description=(
        "Extraterrestrial (AM0), global tilt (AM1.5G, 37 degree tilted surface) and direct + "
        "circumsolar (AM1.5D) spectral irradiance from 280 to 4000 nm, derived from SMARTS 2.9.2 "
        "at NREL: the reference spectrum for rating solar cells."
    ),
    keyword=("solar spectrum", "AM1.5", "irradiance", "photovoltaics", "NREL", "ASTM G173"),
    package="pvlib",
    files=("data/ASTMG173.csv",),
    agency="NREL",
    publisher="National Renewable Energy Laboratory",
    contact=_NREL,
    citation=(
        "ASTM G173-03, Standard Tables for Reference Solar Spectral Irradiances (ASTM 2012); "
        "C. Gueymard, SMARTS 2.9.2; NREL, https://www.nrel.gov/grid/solar-resource/spectra-am1.5.html"
    ),
    license="Public domain (NREL distribution of ASTM G173 data); pvlib is BSD-3-Clause",
    modified="2012-01-01",
    units={
        "wavelength": "nm",
        "extraterrestrial": "W/(m^2*nm)",
        "global": "W/(m^2*nm)",
        "direct": "W/(m^2*nm)",
    },
)
def astm_g173_spectrum(files: dict[str, Path]) -> xr.Dataset:
    """Dimension ``wavelength`` (nm)."""
    import pandas as pd

    df = pd.read_csv(files["pvlib/data/ASTMG173.csv"], skiprows=1).set_index("wavelength")
    return df.astype(float).to_xarray()


@package_dataset(
    id="semiconductors/cec-pv-modules",
    title="California Energy Commission photovoltaic module database (single-diode parameters)",
    description=(
        "Ratings and fitted six-parameter single-diode model coefficients (I_L, I_o, R_s, R_sh, "
        "a, adjust) of 21,535 commercial PV modules listed by the California Energy Commission, "
        "fitted with NREL's System Advisor Model (SAM 2018.11.11)."
    ),
    keyword=("photovoltaics", "PV module", "single-diode model", "CEC", "NREL", "SAM"),
    package="pvlib",
    files=("data/sam-library-cec-modules-2019-03-05.csv",),
    agency="NREL and the California Energy Commission",
    publisher="National Renewable Energy Laboratory",
    contact=_NREL,
    citation=(
        "NREL System Advisor Model (SAM) library of CEC modules, 2019-03-05; A. P. Dobos, An "
        "improved coefficient calculator for the California Energy Commission 6 parameter "
        "photovoltaic module model, J. Sol. Energy Eng. 134 021011 (2012)"
    ),
    license="Public domain (NREL SAM library); pvlib is BSD-3-Clause",
    data_version="SAM library 2019-03-05",
    modified="2019-03-05",
    units={
        "STC": "W",
        "PTC": "W",
        "A_c": "m^2",
        "Length": "m",
        "Width": "m",
        "N_s": "1",
        "I_sc_ref": "A",
        "V_oc_ref": "V",
        "I_mp_ref": "A",
        "V_mp_ref": "V",
        "alpha_sc": "A/K",
        "beta_oc": "V/K",
        "T_NOCT": "degC",
        "a_ref": "V",
        "I_L_ref": "A",
        "I_o_ref": "A",
        "R_s": "ohm",
        "R_sh_ref": "ohm",
        "Adjust": "percent",
        "gamma_r": "percent/K",
        "Technology": "",
        "Bifacial": "1",
        "BIPV": "",
        "Version": "",
        "Date": "",
    },
)
def cec_pv_modules(files: dict[str, Path]) -> xr.Dataset:
    """Dimension ``module`` (the CEC name; repeated names get a ``#2``, ``#3`` suffix)."""
    import pandas as pd

    df = pd.read_csv(files["pvlib/data/sam-library-cec-modules-2019-03-05.csv"], skiprows=[1, 2])
    names = df.pop("Name").astype(str)
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    df.index = pd.Index(unique, name="module")
    for col in ("Technology", "BIPV", "Version", "Date"):
        df[col] = df[col].fillna("").astype(str)
    return df.to_xarray()
