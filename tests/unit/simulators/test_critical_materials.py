"""Solvent-extraction cascade against the Kremser equation.

Reference: Kremser (1930): the fraction left in the raffinate after N counter-current stages
with extraction factor E = D·O/A is (E - 1)/(E^(N+1) - 1), and 1/(N+1) at E = 1.
Tolerance: 1e-10 relative.
"""

import numpy as np
import pytest

from genesis_lab.simulators import get_simulator


def kremser(e, n):
    return 1 / (n + 1) if e == 1 else (e - 1) / (e ** (n + 1) - 1)


@pytest.mark.parametrize("n_stages", [1, 2, 6, 15, 40])
@pytest.mark.parametrize("factor", [0.3, 1.0, 2.5])
def test_raffinate_matches_kremser(n_stages, factor):
    sim = get_simulator("critical-materials/solvent-extraction-cascade")
    ds = sim.run({"n_stages": n_stages, "distribution_ratio": factor / 2, "flow_ratio": 2.0,
                  "separation_factor": 2.0})  # fmt: skip
    assert float(ds["raffinate_fraction_a"]) == pytest.approx(kremser(factor, n_stages), rel=1e-10)
    assert float(ds["raffinate_fraction_b"]) == pytest.approx(
        kremser(factor / 2, n_stages), rel=1e-10
    )


def test_batch_of_mixed_stage_counts_matches_single_runs():
    sim = get_simulator("critical-materials/solvent-extraction-cascade")
    batch = sim.run_batch({"n_stages": [1, 5, 12], "distribution_ratio": [3.0, 0.7, 1.2]})
    for i, (n, d) in enumerate([(1, 3.0), (5, 0.7), (12, 1.2)]):
        single = sim.run({"n_stages": n, "distribution_ratio": d})
        assert float(batch["recovery_a"][i]) == pytest.approx(float(single["recovery_a"]))
        assert np.isnan(batch["aqueous_a"].values[i, n:]).all()


def test_purity_follows_from_recoveries():
    ds = get_simulator("critical-materials/solvent-extraction-cascade").run(
        {"feed_fraction_a": 0.3, "separation_factor": 4.0}
    )
    ra, rb = 1 - float(ds["raffinate_fraction_a"]), 1 - float(ds["raffinate_fraction_b"])
    assert float(ds["extract_purity_a"]) == pytest.approx(0.3 * ra / (0.3 * ra + 0.7 * rb))
