"""A dask dashboard on a free 127.0.0.1 port, for the tests that reach it through a proxy."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dashboard_port():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        yield int(cluster.dashboard_link.split(":")[2].split("/")[0])
