"""``genesis-lab simulator list|show|run`` through the real command-line entry function."""

import json

import xarray as xr

from genesis_lab.cli import main


def test_list_json_has_every_domain(capsys):
    assert main(["simulator", "list", "--json"]) == 0
    ids = [e["id"] for e in json.loads(capsys.readouterr().out)]
    assert "semiconductors/pn-junction" in ids and len(ids) >= 6


def test_show_prints_the_parameter_schema(capsys):
    assert main(["simulator", "show", "nuclear-energy/point-kinetics"]) == 0
    out = capsys.readouterr().out
    assert "reactivity" in out and "[-10, 0.95] $" in out and "Keepin" in out


def test_run_with_parameters_prints_json_and_writes_netcdf(capsys, tmp_path):
    out_file = tmp_path / "run.nc"
    code = main(["simulator", "run", "biotechnology/michaelis-menten", "-p", "s0", "4",
                 "-p", "km", "1", "--json", "--output", str(out_file)])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["parameters"]["s0"] == 4.0
    expected = (4 / 2 + 1 * 0.6931471805599453) / 0.1
    assert abs(doc["outputs"]["half_conversion_time"]["value"] - expected) < 1e-5
    with xr.open_dataset(out_file, engine="h5netcdf") as ds:
        assert ds.attrs["simulator_id"] == "biotechnology/michaelis-menten"


def test_bad_parameter_exits_1_with_the_bounds(capsys):
    code = main(["simulator", "run", "semiconductors/pn-junction", "-p", "reverse_bias", "99"])
    assert code == 1
    assert "'reverse_bias' = 99.0 is out of bounds; allowed: a number in [0, 20] V" in (
        capsys.readouterr().err
    )
