"""Claim: ``import genesis_lab`` adds at most 150 ms over ``python -c pass`` (lazy imports)."""

import subprocess
import sys

from _report import claim, interleaved, median

CLAIMS = ("import genesis_lab added time",)


def main() -> None:
    def bare():
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def with_import():
        subprocess.run([sys.executable, "-c", "import genesis_lab"], check=True)

    t_import, t_bare = interleaved(with_import, bare, pairs=20)
    added_ms = (median(t_import) - median(t_bare)) * 1000
    claim(
        "import genesis_lab added time",
        added_ms,
        150,
        unit=" ms",
        details=f"median {median(t_import) * 1000:.1f} ms vs python -c pass {median(t_bare) * 1000:.1f} ms, 20 pairs",
    )
