"""``genesis-lab challenge ...`` as a user types it: exit codes, flags from the schema, --json."""

import json
import subprocess
import sys
from pathlib import Path

GL = str(Path(sys.executable).parent / "genesis-lab")


def cli(*args, check=True):
    proc = subprocess.run([GL, *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_list_show_run_results_verify(demo_challenge):
    listed = json.loads(cli("challenge", "list", "--json").stdout)
    assert [c["id"] for c in listed] == ["demo"]
    shown = json.loads(cli("challenge", "show", "demo", "--json").stdout)
    assert {p["name"] for p in shown["parameters"]} == {
        "n",
        "scale",
        "fail",
        "record",
        "sleep",
        "mode",
    }
    assert "--scale" in cli("challenge", "show", "demo").stdout

    first = json.loads(
        cli("challenge", "run", "demo", "--n", "6", "-p", "scale", "0.5", "--json").stdout
    )
    assert first["metrics"] == {"total": 7.5, "terms": 6} and first["cached"] is False
    again = json.loads(
        cli("challenge", "run", "demo", "-p", "n", "6", "--scale", "0.5", "--json").stdout
    )
    assert again["cached"] is True and again["run_id"] == first["run_id"]
    forced = json.loads(
        cli("challenge", "run", "demo", "--n", "6", "--scale", "0.5", "--force", "--json").stdout
    )
    assert forced["cached"] is False

    board = json.loads(cli("challenge", "results", "demo", "--json").stdout)
    assert {r["run_id"] for r in board} == {first["run_id"], forced["run_id"]}
    assert "RANK" in cli("challenge", "results", "demo").stdout
    out = cli("challenge", "verify", first["run_id"])
    assert "reproduced" in out.stdout


def test_bad_input_exits_1_naming_the_parameter(demo_challenge):
    for args, fragment in [
        (["-p", "n", "0"], "'n'"),
        (["--bogus", "1"], "unknown argument '--bogus'"),
        (["-p", "x = 1; import os #", "1"], "unknown parameter 'x = 1; import os #'"),
        (["--mode", "cube"], "one of 'sum', 'square'"),
    ]:
        proc = cli("challenge", "run", "demo", *args, check=False)
        assert proc.returncode == 1, args
        assert fragment in proc.stderr, (args, proc.stderr)
    proc = cli("challenge", "run", "no-such", check=False)
    assert proc.returncode == 1 and "No challenge 'no-such'" in proc.stderr


def test_failed_run_exits_1_with_cell_and_error(demo_challenge):
    proc = cli("challenge", "run", "demo", "--fail", "true", check=False)
    assert proc.returncode == 1
    assert "failed in cell 3: RuntimeError: asked to fail" in proc.stderr


def test_schema_flags_have_help_with_units_and_bounds(demo_challenge):
    out = cli("challenge", "run", "demo", "--help").stdout
    assert "--scale FLOAT" in out and "float in [0, 10] 1; default 1.0" in out
    assert "--mode STR" in out and "one of 'sum', 'square'" in out


def test_schedule_add_list_remove(demo_challenge):
    bad = cli("schedule", "add", "demo", "--cron", "not a cron", check=False)
    assert bad.returncode == 1 and "cron expression 'not a cron' is invalid" in bad.stderr
    bad = cli("schedule", "add", "demo", "--cron", "0 2 * * *", "-p", "n", "0", check=False)
    assert bad.returncode == 1 and "'n'" in bad.stderr
    added = json.loads(cli("schedule", "add", "demo", "--cron", "0 2 * * *", "-p", "n", "5",
                           "--json").stdout)  # fmt: skip
    assert added["parameters"]["n"] == 5 and added["cron"] == "0 2 * * *"
    listed = json.loads(cli("schedule", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [added["id"]] and listed[0]["next_run"].endswith(
        "02:00:00+00:00"
    )
    cli("schedule", "remove", added["id"])
    assert json.loads(cli("schedule", "list", "--json").stdout) == []
    assert cli("schedule", "remove", added["id"], check=False).returncode == 1
