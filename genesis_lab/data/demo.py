"""Demonstration datasets, one per restricted marking, for a new site to see clearances at work.

Synthetic and labelled so in their title, description and provenance: generated from fixed seeds,
never real controlled data. ``genesis-lab up`` writes them when the site file says
``service.demo_datasets: true`` (the example site does).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from genesis_lab.fileio import atomic_write_text

__all__ = ["DEMO_CATALOG_FILE", "DEMO_DATASETS", "write_demo_datasets"]

DEMO_CATALOG_FILE = "demo-restricted.yaml"

DEMO_DATASETS: dict[str, dict[str, str]] = {
    "controlled": {
        "id": "critical-materials/demo-controlled-magnet-coercivity",
        "title": "DEMONSTRATION (synthetic): coercivity of Nd-Fe-B magnet compositions",
        "variable": "coercivity",
        "units": "kA/m",
    },
    "proprietary": {
        "id": "semiconductors/demo-proprietary-etch-rates",
        "title": "DEMONSTRATION (synthetic): plasma etch rates of a partner's process",
        "variable": "etch_rate",
        "units": "nm/min",
    },
    "export-controlled": {
        "id": "nuclear-energy/demo-export-controlled-cascade-separation",
        "title": "DEMONSTRATION (synthetic): separation factors of a centrifuge cascade",
        "variable": "separation_factor",
        "units": "1",
    },
}
"""Marking -> the demonstration dataset that carries it."""


def _dataset(marking: str, seed: int) -> xr.Dataset:
    spec = DEMO_DATASETS[marking]
    rng = np.random.default_rng(seed)
    x, y = np.linspace(0, 1, 12), np.linspace(0, 1, 8)
    field = 1.0 + 0.5 * np.sin(3 * x)[:, None] * np.cos(2 * y)[None, :]
    values = field * (100 + 50 * seed) + rng.normal(0, 1, field.shape)
    ds = xr.Dataset(
        {spec["variable"]: (("x", "y"), values, {"units": spec["units"]})},
        coords={"x": ("x", x, {"units": "1"}), "y": ("y", y, {"units": "1"})},
    )
    ds.attrs["note"] = "Synthetic demonstration data for the access-marking feature; not real."
    return ds


def write_demo_datasets(data_root: Path, catalog_dir: Path) -> list[str]:
    """Write the demonstration stores under ``data_root/demo`` and their catalog file into
    ``catalog_dir`` unless it exists; returns the ids written (empty when already there).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> len(write_demo_datasets(root / "data", root / "catalog"))
    3
    """
    catalog_file = catalog_dir / DEMO_CATALOG_FILE
    if catalog_file.exists():
        return []
    entries = []
    for seed, (marking, spec) in enumerate(DEMO_DATASETS.items()):
        name = spec["id"].split("/", 1)[1]
        store = data_root / "demo" / f"{name}.zarr"
        _dataset(marking, seed).to_zarr(store, mode="w", consolidated=True, zarr_format=2)
        entries.append(
            {
                "id": spec["id"],
                "kind": "dataset",
                "domain": spec["id"].split("/", 1)[0],
                "title": spec["title"],
                "description": f"Synthetic data marked {marking} to show how clearances work: "
                f"only users holding the {marking} clearance can read it. Not real data.",
                "keyword": ["demonstration", "synthetic", marking],
                "modified": "2026-12-01",
                "publisher": {"name": "genesis-lab (demonstration)"},
                "contactPoint": {"fn": "Site administrator", "hasEmail": "admin@example.org"},
                "license": "CC0-1.0",
                "distribution": [{"downloadURL": f"demo/{name}.zarr", "format": "zarr"}],
                "provenance": {
                    "source": "synthetic (genesis_lab.data.demo, fixed seed)",
                    "agency": "genesis-lab",
                    "citation": "genesis-lab demonstration data",
                    "version": "1",
                },
                "marking": marking,
            }
        )
    catalog_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(catalog_file, yaml.safe_dump({"entries": entries}, sort_keys=False))
    return [e["id"] for e in entries]
