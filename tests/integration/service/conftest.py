"""Fixtures of the genesis service tests: a real hub running the service (see svc_hub.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from svc_hub import USERS, ServiceHub, start_service_hub


@pytest.fixture(scope="session")
def service_hub(tmp_path_factory) -> Iterator[ServiceHub]:
    """The hub with the genesis service, users of every kind and four marked datasets."""
    running = start_service_hub(tmp_path_factory.mktemp("genesis-service-hub"))
    yield running
    try:
        for user in USERS:
            running.hub_api("DELETE", f"/users/{user}/server")
    finally:
        running.stop()
