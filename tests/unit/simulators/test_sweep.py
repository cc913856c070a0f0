"""``sweep``: grid and sampled sweeps as dask tasks, the chunk cache, and a real LocalCluster."""

import numpy as np
import pytest
import xarray as xr

from genesis_lab.errors import ParameterError
from genesis_lab.simulators import get_simulator, sweep
from genesis_lab.simulators.critical_materials import SolventExtractionCascade


class CountingCascade(SolventExtractionCascade):
    """The cascade, counting how many chunks it evaluates (threaded scheduler: same process)."""

    calls = 0

    def _run(self, points, rngs):
        type(self).calls += 1
        return super()._run(points, rngs)


@pytest.fixture(scope="module")
def client():
    """A real two-process LocalCluster, shared by this module's tests."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    )
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_grid_has_one_dimension_per_swept_parameter_and_matches_direct_runs():
    sim = get_simulator("quantum-information/transverse-field-ising")
    ds = sweep(sim, {"field": (0.0, 2.0, 5), "n_sites": [4, 6]}, progress=False)
    assert ds["ground_state_energy"].dims == ("field", "n_sites")
    assert ds.sizes == {"field": 5, "n_sites": 2}
    np.testing.assert_allclose(ds["field"].values, np.linspace(0, 2, 5))
    for h in (0.0, 1.5):
        for n in (4, 6):
            direct = sim.run({"field": h, "n_sites": n})
            got = ds["ground_state_energy"].sel(field=h, n_sites=n)
            assert float(got) == pytest.approx(float(direct["ground_state_energy"]), rel=1e-12)
    assert ds["field"].attrs["units"] == "J"
    assert float(ds["coupling"]) == 1.0  # unswept parameters stay as scalar coordinates
    assert ds.attrs["simulator_id"] == sim.id and ds.attrs["sweep_method"] == "grid"


def test_fixed_values_and_profiles_keep_their_dimensions():
    ds = sweep(
        "critical-materials/solvent-extraction-cascade",
        {"n_stages": [2, 8], "distribution_ratio": [0.5, 2.0, 4.0], "flow_ratio": 2.0},
        progress=False,
    )
    assert float(ds["flow_ratio"]) == 2.0
    assert ds["aqueous_a"].dims == ("n_stages", "distribution_ratio", "stage")
    assert ds.sizes["stage"] == 8
    assert np.isnan(ds["aqueous_a"].sel(n_stages=2).values[:, 2:]).all()


def test_repeated_sweep_reads_the_cache_and_computes_nothing():
    sim = CountingCascade()
    space = {"n_stages": [1, 2, 3, 4], "distribution_ratio": (0.5, 3.0, 6)}
    first = sweep(sim, space, chunk_size=5, progress=False)
    assert CountingCascade.calls == 5  # 24 points in chunks of 5
    second = sweep(sim, space, chunk_size=5, progress=False)
    assert CountingCascade.calls == 5
    xr.testing.assert_identical(first, second)
    sweep(sim, space, chunk_size=5, seed=1, progress=False)  # another seed is another key
    assert CountingCascade.calls == 10
    sweep(sim, space, chunk_size=5, progress=False, cache=False)
    assert CountingCascade.calls == 15


def test_cache_key_includes_the_version(monkeypatch):
    sim = CountingCascade()
    CountingCascade.calls = 0
    sweep(sim, {"n_stages": [1, 2]}, chunk_size=2, progress=False)
    monkeypatch.setattr(CountingCascade, "version", "2.0")
    sweep(sim, {"n_stages": [1, 2]}, chunk_size=2, progress=False)
    assert CountingCascade.calls == 2


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_sampled_sweeps_have_a_sample_dimension(method):
    space = {"distribution_ratio": (0.5, 4.0), "n_stages": (1, 10), "flow_ratio": 1.5}
    ds = sweep(
        "critical-materials/solvent-extraction-cascade", space, method=method, n=40,
        progress=False,
    )  # fmt: skip
    assert ds["recovery_a"].dims == ("sample",) and ds.sizes["sample"] == 40
    d = ds["distribution_ratio"].values
    assert d.min() >= 0.5 and d.max() <= 4.0
    assert set(ds["n_stages"].values) <= set(range(1, 11))
    again = sweep("critical-materials/solvent-extraction-cascade", space, method=method, n=40,
                  progress=False)  # fmt: skip
    xr.testing.assert_identical(ds, again)
    if method == "lhs":  # one sample per stratum of each parameter
        strata = np.floor((d - 0.5) / 3.5 * 40).astype(int)
        assert sorted(strata) == list(range(40))


def test_bad_spaces_get_clear_errors():
    sim = get_simulator("biotechnology/michaelis-menten")
    with pytest.raises(ParameterError, match="no parameter 'S0'"):
        sweep(sim, {"S0": [1.0]}, progress=False)
    with pytest.raises(ParameterError, match=r"'s0' = 5000.0 is out of bounds"):
        sweep(sim, {"s0": [1.0, 5000.0]}, progress=False)
    with pytest.raises(ParameterError, match="allowed: grid, random, lhs"):
        sweep(sim, {"s0": [1.0]}, method="sobol", progress=False)
    with pytest.raises(ParameterError, match="needs n"):
        sweep(sim, {"s0": (1.0, 2.0)}, method="random", progress=False)


@pytest.mark.parametrize("spec", [(100, 400), (100.0, 200.0, 300.0, 400.0)])
def test_grid_refuses_a_range_without_a_count(spec):
    """``(100, 400)`` used to become the 2-point grid [100, 400] without a word."""
    sim = get_simulator("advanced-manufacturing/rosenthal-melt-pool")
    with pytest.raises(ParameterError, match=r"space\['power'\].*\(lo, hi, n\).*a list") as err:
        sweep(sim, {"power": spec}, progress=False)
    assert "method='random' or 'lhs'" in str(err.value)
    # what the message offers works: a list is the values themselves
    ds = sweep("critical-materials/solvent-extraction-cascade", {"flow_ratio": [0.5, 2.0]},
               progress=False, cache=False)  # fmt: skip
    assert ds["recovery_a"].sizes == {"flow_ratio": 2}


def test_sampled_methods_refuse_a_grid_range():
    with pytest.raises(ParameterError, match=r"method='lhs' takes a range as \(lo, hi\)"):
        sweep("critical-materials/solvent-extraction-cascade",
              {"flow_ratio": (0.5, 2.0, 10)}, method="lhs", n=5, progress=False)  # fmt: skip


def test_progress_counts_points_not_chunks(capsys):
    space = {"n_stages": [1, 2, 3, 4], "distribution_ratio": (0.5, 3.0, 6)}
    sweep(SolventExtractionCascade(), space, chunk_size=5, progress=True, cache=False)
    err = capsys.readouterr().err
    # 24 points in chunks of 5: the bar ends at 24/24 points (not 5/5 chunks)
    assert "24/24" in err and "point" in err, err


def test_sweep_on_a_real_local_cluster_matches_the_threaded_sweep(client):
    space = {"field": (0.0, 2.0, 9), "boundary": ["open", "periodic"], "n_sites": 6}
    on_cluster = sweep("quantum-information/transverse-field-ising", space, cluster=client,
                       progress=False, cache=False)  # fmt: skip
    local = sweep("quantum-information/transverse-field-ising", space, progress=False,
                  cache=False)  # fmt: skip
    # workers run BLAS single-threaded (the nanny sets OMP_NUM_THREADS=1), so eigh may differ
    # from the threaded run in the last bits
    xr.testing.assert_allclose(on_cluster, local, rtol=1e-12, atol=1e-10)
    assert on_cluster.attrs == local.attrs
    assert on_cluster.sizes == {"field": 9, "boundary": 2}


def test_sweep_uses_the_current_client_and_fills_the_cache(client):
    space = {"reactivity": (-1.0, 0.5, 20), "generation_time": [1e-5, 1e-4]}
    with client.as_current():
        ds = sweep("nuclear-energy/point-kinetics", space, progress=False)
    assert ds["reactor_period"].dims == ("reactivity", "generation_time")
    # the second sweep needs no cluster: every chunk is in the cache
    again = sweep("nuclear-energy/point-kinetics", space, progress=False)
    xr.testing.assert_identical(ds, again)


def test_sweep_survives_a_worker_killed_mid_sweep(client):
    """SIGKILL one worker process while chunks run: distributed recomputes the lost tasks."""
    import os
    import signal
    import threading
    import time

    sim = get_simulator("quantum-information/transverse-field-ising")
    space = {"field": (0.0, 2.0, 20), "n_sites": 9}
    pids = client.run(os.getpid)
    out: dict = {}
    runner = threading.Thread(
        target=lambda: out.update(
            ds=sweep(sim, space, cluster=client, chunk_size=2, progress=False, cache=False)
        )
    )
    runner.start()
    deadline = time.monotonic() + 60
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    victim = next(addr for addr, tasks in client.processing().items() if tasks)
    os.kill(pids[victim], signal.SIGKILL)  # the nanny starts a fresh worker
    runner.join(timeout=300)
    client.wait_for_workers(2, timeout=60)
    assert "ds" in out, "the sweep did not finish after a worker was killed"
    ds = out["ds"]
    assert ds.sizes == {"field": 20}
    assert victim not in client.scheduler_info()["workers"]
    direct = sim.run_batch({"field": ds["field"].values, "n_sites": 9})
    np.testing.assert_allclose(
        ds["ground_state_energy"].values, direct["ground_state_energy"].values, rtol=1e-10
    )
