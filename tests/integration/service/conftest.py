"""Fixtures of the genesis service tests: the project's shared hub, which runs the service, with
the test users and datasets (see svc_hub.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from svc_hub import USERS, ServiceHub, serve_test_datasets


@pytest.fixture(scope="session")
def service_hub(hub) -> Iterator[ServiceHub]:
    """The shared hub with users of every kind and four marked datasets."""
    running = serve_test_datasets(hub)
    yield running
    for user in USERS:
        running.hub_api("DELETE", f"/users/{user}/server")
