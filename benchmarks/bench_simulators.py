"""Claims: a chunked 2,000-point sweep on a 2-worker LocalCluster is near the ideal speed-up and
as fast as a hand-tuned ``client.map``; a vectorised simulator beats a plain Python loop >= 20x.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import math
import multiprocessing
import os
import sys
import time

import numpy as np
from _report import claim, context

N_POINTS = 2000

CLAIMS = (
    "vectorised Michaelis-Menten run_batch vs plain Python loop",
    "2,000-point sweep on 2 workers vs ideal (serial/2)",
    "2,000-point sweep vs hand-tuned client.map",
)


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _noop(x):
    return x


def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _run_chunk(sim, chunk):
    return sim.run_batch(chunk, seed=0)


def bench_sweep(rounds: int = 5) -> None:
    import distributed
    import xarray as xr
    from threadpoolctl import threadpool_limits

    from genesis_lab.simulators import get_simulator, sweep

    sim = get_simulator("quantum-information/transverse-field-ising")
    # 2,000 points of a 7-site chain (a 128 x 128 eigenproblem each, about a millisecond)
    space = {"field": (0.0, 2.0, 100), "coupling": (0.5, 1.5, 20), "n_sites": 7}
    fields, couplings = np.meshgrid(np.linspace(0, 2, 100), np.linspace(0.5, 1.5, 20))
    points = {"field": fields.ravel(), "coupling": couplings.ravel(), "n_sites": 7}

    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    )
    client = distributed.Client(cluster, set_as_default=False)

    def serial():
        # one process, one BLAS thread (as each dask worker has), vectorised over all points
        with threadpool_limits(1):
            sim.run_batch(points, seed=0)

    def chunked_sweep():
        sweep(sim, space, cluster=client, progress=False, cache=False)

    def hand_map(n_chunks: int):
        size = math.ceil(N_POINTS / n_chunks)
        chunks = [
            {k: (v[i : i + size] if isinstance(v, np.ndarray) else v) for k, v in points.items()}
            for i in range(0, N_POINTS, size)
        ]
        futures = client.map(_run_chunk, [sim] * len(chunks), chunks, pure=False)
        return xr.concat(client.gather(futures), dim="point")

    # what two processes of this machine deliver with no dask at all (the achievable ideal
    # when other work shares the cores): each evaluates half of the points
    halves = [
        {
            k: (v[i : i + N_POINTS // 2] if isinstance(v, np.ndarray) else v)
            for k, v in points.items()
        }
        for i in (0, N_POINTS // 2)
    ]
    # functions sent to the pool must be importable by name (run.py loads this file by path)
    here = sys.modules.get(__name__) or importlib.import_module(__name__)
    ctx = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        2, mp_context=ctx, initializer=here._one_blas_thread
    )

    def two_processes():
        list(pool.map(here._run_chunk, [sim, sim], halves))

    try:
        list(pool.map(here._noop, range(4)))
        two_processes()
        client.gather(client.map(_noop, range(20)))  # warm up connections and imports
        sweep(sim, {"field": [0.1, 0.2]}, cluster=client, progress=False, cache=False)
        hand_map(2)

        n_tasks = 2000
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(n_tasks), pure=False))
        per_task_ms = (time.perf_counter() - t0) / n_tasks * 1000

        # interleaved rounds in rotating order, so load from other processes on the shared
        # machine hits every variant alike; the best of the rounds is reported
        variants = {
            "serial": serial,
            "sweep": chunked_sweep,
            "map4": lambda: hand_map(4),
            "map8": lambda: hand_map(8),
            "procs2": two_processes,
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        names = list(variants)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.perf_counter()
                variants[name]()
                times[name].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sweep(sim, space, cluster=client, progress=False, cache=False, chunk_size=1)
        t_naive = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
        pool.shutdown()

    serial_s, sweep_s = min(times["serial"]), min(times["sweep"])
    hand_best = {int(k[3:]): min(times[k]) for k in ("map4", "map8")}
    best_chunks = min(hand_best, key=hand_best.get)
    ideal = serial_s / 2
    claim(
        "2,000-point sweep on 2 workers vs ideal (serial/2)",
        sweep_s / ideal,
        1.3,
        details=f"sweep {sweep_s:.2f} s, serial vectorised {serial_s:.2f} s, best of {rounds}; "
        f"two bare processes (no dask) take {min(times['procs2']):.2f} s = "
        f"{min(times['procs2']) / ideal:.2f}x ideal on this machine now",
    )
    claim(
        "2,000-point sweep vs hand-tuned client.map",
        sweep_s / hand_best[best_chunks],
        1.2,
        details="client.map best "
        + ", ".join(f"{k} chunks {v:.2f} s" for k, v in hand_best.items()),
    )
    # dask's own cost per task (no project code runs): why the sweep chunks its points
    context(
        "dask's own cost per no-op task on this cluster",
        per_task_ms,
        unit=" ms",
        details=f"{n_tasks} no-op tasks through client.map; the sweep with one task per point "
        f"(chunk_size=1) takes {t_naive:.2f} s = {t_naive / sweep_s:.1f}x the chunked sweep",
    )


def mm_python_loop(s0s, kms, vmaxs, t_ends, n_steps=2000):
    """The Michaelis–Menten model of ``biotechnology/michaelis-menten`` in plain Python."""
    out = []
    for s0, km, vmax, t_end in zip(s0s, kms, vmaxs, t_ends, strict=True):
        dt = t_end / n_steps
        s = s0
        t_half = math.nan

        def rate(x, km=km, vmax=vmax):
            return -vmax * x / (km + x)

        for i in range(1, n_steps + 1):
            k1 = rate(s)
            k2 = rate(s + 0.5 * dt * k1)
            k3 = rate(s + 0.5 * dt * k2)
            k4 = rate(s + dt * k3)
            s_new = s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            if math.isnan(t_half) and s_new <= 0.5 * s0:
                lo, hi, d_new = 0.0, 1.0, rate(s_new)
                for _ in range(50):
                    m = 0.5 * (lo + hi)
                    val = (
                        (2 * m**3 - 3 * m**2 + 1) * s
                        + (m**3 - 2 * m**2 + m) * dt * k1
                        + (-2 * m**3 + 3 * m**2) * s_new
                        + (m**3 - m**2) * dt * d_new
                    )
                    if val > 0.5 * s0:
                        lo = m
                    else:
                        hi = m
                t_half = (i - 1) * dt + 0.5 * (lo + hi) * dt
            s = s_new
        out.append((t_half, s))
    return out


def bench_vectorised() -> None:
    from genesis_lab.simulators import get_simulator

    sim = get_simulator("biotechnology/michaelis-menten")
    n = 2000
    rng = np.random.default_rng(0)
    pts = {
        "s0": rng.uniform(0.5, 10, n),
        "km": rng.uniform(0.1, 5, n),
        "vmax": rng.uniform(0.05, 0.5, n),
        "t_end": np.full(n, 120.0),
    }
    ds = sim.run_batch(pts, seed=0)
    loop = mm_python_loop(pts["s0"], pts["km"], pts["vmax"], pts["t_end"])
    np.testing.assert_allclose([r[1] for r in loop], ds["final_substrate"].values, rtol=1e-9)
    np.testing.assert_allclose([r[0] for r in loop], ds["half_conversion_time"].values, rtol=1e-9)
    t_vec = _best(lambda: sim.run_batch(pts, seed=0), repeats=3)
    t_loop = _best(
        lambda: mm_python_loop(pts["s0"], pts["km"], pts["vmax"], pts["t_end"]), repeats=1
    )
    claim(
        "vectorised Michaelis-Menten run_batch vs plain Python loop",
        t_loop / t_vec,
        20,
        op=">=",
        details=f"{n} points x 2000 RK4 steps: numpy {t_vec:.3f} s, Python loop {t_loop:.2f} s",
    )


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    bench_vectorised()
    bench_sweep()


if __name__ == "__main__":
    main()
