"""Claims: reading a 200 MB zarr dataset through the genesis service (real hub, proxy, token,
policy and audit on every chunk) reaches >= 0.5x the throughput of reading it from disk in the
same process; 200 concurrent catalog requests on loopback all succeed (p99 latency reported).

Starts a real JupyterHub with the service (the integration tests' launcher) on random ports.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _report import claim, interleaved, median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "service"))

BIG_ID = "semiconductors/wafer-survey-200mb"

CLAIMS = (
    "zarr read through the service / direct from disk (throughput)",
    "200 concurrent catalog requests: errors",
)


def _write_big_store(hub) -> Path:
    import numpy as np
    import xarray as xr
    import yaml

    store = hub.data_root / "site" / "wafer-survey-200mb.zarr"
    rng = np.random.default_rng(0)
    data = rng.normal(100, 1, (5000, 5000))  # 200 MB of float64
    xr.Dataset({"thickness": (("x", "y"), data)}).to_zarr(
        store,
        mode="w",
        consolidated=True,
        zarr_format=2,
        encoding={"thickness": {"chunks": (2500, 1250), "compressors": None}},
    )
    entry = {
        "id": BIG_ID,
        "kind": "dataset",
        "domain": "semiconductors",
        "title": "Wafer survey, 200 MB",
        "description": "Benchmark dataset.",
        "keyword": ["wafer"],
        "modified": "2026-01-01",
        "publisher": {"name": "bench"},
        "contactPoint": {"fn": "bench", "hasEmail": "bench@example.org"},
        "license": "CC0-1.0",
        "distribution": [{"downloadURL": f"site/{store.name}", "format": "zarr"}],
        "provenance": {"source": "synthetic", "agency": "bench", "citation": "b", "version": "1"},
        "marking": "controlled",
    }
    (hub.catalog_dir / "bench.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    return store


async def _concurrent_catalog(url: str, token: str, n: int) -> tuple[list[float], int]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            try:
                async with session.get(
                    url,
                    headers={"Authorization": f"token {token}"},
                    timeout=aiohttp.ClientTimeout(120),
                ) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(one() for _ in range(n)))
    return latencies, errors


def main() -> None:
    import xarray as xr
    from svc_hub import start_service_hub

    from genesis_lab.settings import reset_settings

    base = Path(tempfile.mkdtemp(prefix="bench-service-"))
    hub = start_service_hub(base)
    try:
        store = _write_big_store(hub)
        token = hub.token("c-controlled")
        deadline = time.monotonic() + 30  # the service sees the new catalog file within ~1 s
        while hub.get(f"api/data/{BIG_ID}", "c-controlled").status_code != 200:
            assert time.monotonic() < deadline, "the service never listed the benchmark dataset"
            time.sleep(0.2)

        def direct() -> None:
            ds = xr.open_zarr(store, chunks={})
            ds["thickness"].data.sum().compute(num_workers=8)

        import genesis_lab as gl

        def through_service() -> None:
            ds = gl.open_dataset(BIG_ID)
            ds["thickness"].data.sum().compute(num_workers=8)

        os.environ["JUPYTERHUB_API_TOKEN"] = token
        timings, ratios = {}, {}
        # sessions are given the service's own address (as they are the hub API's); browsers
        # and anything outside reach it through configurable-http-proxy
        for where, url, pairs in (("service", hub.direct_url, 15), ("proxy", hub.service_url, 5)):
            os.environ["GENESIS_SERVICE_URL"] = url
            reset_settings()
            through_service()  # warm: imports, connection pool
            timings[where], timings[f"direct-{where}"] = interleaved(
                through_service, direct, pairs=pairs
            )
            ratios[where] = median(
                [d / s for d, s in zip(timings[f"direct-{where}"], timings[where], strict=True)]
            )
        del os.environ["GENESIS_SERVICE_URL"], os.environ["JUPYTERHUB_API_TOKEN"]
        reset_settings()
        mb = 200.0
        t_direct = median(timings["direct-service"])
        claim(
            "zarr read through the service / direct from disk (throughput)",
            ratios["service"],
            0.5,
            op=">=",
            details=f"median of 15 interleaved pairs, open_dataset included; service at the "
            f"address sessions get {mb / median(timings['service']):.0f} MB/s, direct "
            f"{mb / t_direct:.0f} MB/s; through configurable-http-proxy (browsers, outside) "
            f"{mb / median(timings['proxy']):.0f} MB/s ({ratios['proxy']:.2f}x, 5 pairs); "
            "200 MB, 8 chunks of 25 MB, 8 dask threads both ways, token check + policy + audit "
            "per chunk",
        )

        lat, errors = asyncio.run(_concurrent_catalog(hub.service_url + "api/catalog", token, 200))
        lat.sort()
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
        claim(
            "200 concurrent catalog requests: errors",
            errors,
            0,
            op="<=",
            unit="",
            details=f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms",
        )
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
