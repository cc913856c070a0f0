"""``genesis-lab model list|show`` through the real command line entry point."""

from __future__ import annotations

import json

from genesis_lab.cli import main


def test_list_and_show(capsys):
    assert main(["model", "list", "--json"]) == 0
    ids = {e["id"] for e in json.loads(capsys.readouterr().out)}
    assert "advanced-manufacturing/melt-pool-width-gp" in ids
    assert main(["model", "show", "semiconductors/cec-module-ptc-gb", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["target"] == "PTC" and card["metrics"]["r2"] > 0.99
    assert main(["model", "show", "semiconductors/cec-module-ptc-gb"]) == 0
    assert "## Limitations" in capsys.readouterr().out
    assert main(["model", "show", "semiconductors/nope"]) == 1
