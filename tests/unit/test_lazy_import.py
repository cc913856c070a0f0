"""``import genesis_lab`` stays light: heavy libraries load only when used (as xarray tests)."""

import json
import subprocess
import sys

HEAVY = ["distributed", "zarr", "papermill", "holoviews", "sklearn", "xarray", "pydantic", "dask"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(list(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_loads_no_heavy_library():
    loaded = _modules_after("import genesis_lab")
    assert not [m for m in HEAVY if m in loaded]


def test_cli_help_stays_light():
    loaded = _modules_after(
        "import contextlib, io\nfrom genesis_lab.cli import build_parser\nbuild_parser()"
    )
    assert not [
        m for m in ("distributed", "zarr", "papermill", "holoviews", "sklearn") if m in loaded
    ]
