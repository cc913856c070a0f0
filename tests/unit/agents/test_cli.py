"""``genesis-lab campaign run|status|export|list`` through the real command line entry point."""

from __future__ import annotations

import json

import xarray as xr

import genesis_lab as gl
from genesis_lab.cli import main


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_run_status_export(capsys, tmp_path):
    code = main(["campaign", "run", "critical-materials/solvent-extraction-cascade",
                 "--objective", "recovery_a:max", "--param", "n_stages=1:6",
                 "--param", "distribution_ratio=0.2:5", "--policy", "random", "--budget", "5",
                 "--seed", "1", "--name", "cli-demo", "--json"])  # fmt: skip
    assert code == 0
    run = _json(capsys)
    assert run["trials"] == 5 and run["best"]["params"]["n_stages"] <= 6

    assert main(["campaign", "status", "cli-demo", "--json"]) == 0
    status = _json(capsys)
    assert status["trials"] == 5 and status["finished"] and status["best"] == run["best"]

    out = tmp_path / "cli-demo.nc"
    assert main(["campaign", "export", "cli-demo", "--output", str(out),
                 "--dataset-id", "critical-materials/cli-demo-trials", "--json"]) == 0  # fmt: skip
    exported = _json(capsys)
    assert exported["trials"] == 5 and "recovery_a" in exported["variables"]
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.sizes["trial"] == 5 and ds.attrs["campaign"] == "cli-demo"
    from genesis_lab.settings import reset_settings

    reset_settings()  # the catalog was written to: read it again
    reg = gl.open_dataset("critical-materials/cli-demo-trials")
    assert reg.sizes["trial"] == 5

    assert main(["campaign", "list", "--json"]) == 0
    assert [c["name"] for c in _json(capsys)] == ["cli-demo"]


def test_unknown_campaign_is_exit_code_1(capsys):
    assert main(["campaign", "status", "nope", "--json"]) == 1
    assert "no campaign named 'nope'" in capsys.readouterr().err
