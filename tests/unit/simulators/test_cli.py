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
    assert "reactivity" in out and "one of 'dollar', 'pcm', 'dk/k'" in out and "Keepin" in out
    assert "Valid where" in out and "reactivity <= 10 $" in out


def test_run_help_with_an_id_shows_the_validity_domain(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        main(["simulator", "run", "advanced-manufacturing/rosenthal-melt-pool", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "preheat_temperature < melting_temperature" in out
    assert "NaN at the source node" in out and "[1, 5000] W" in out


def test_run_refuses_a_broken_relation_naming_it(capsys):
    code = main(["simulator", "run", "advanced-manufacturing/rosenthal-melt-pool",
                 "-p", "preheat_temperature", "1800"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "'preheat_temperature < melting_temperature' does not hold" in err
    assert "preheat_temperature=1800.0, melting_temperature=1700.0" in err


def test_run_takes_reactivity_in_pcm(capsys):
    code = main(["simulator", "run", "nuclear-energy/point-kinetics", "-p", "reactivity", "65",
                 "-p", "reactivity_unit", "pcm", "--json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert abs(doc["outputs"]["reactivity_dollars"]["value"] - 0.1) < 1e-12


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
