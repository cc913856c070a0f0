"""A real two-process dask cluster shared by the agents tests that run batches on it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster, set_as_default=False)  # never leak into other tests
    yield client
    client.close()
    cluster.close()
