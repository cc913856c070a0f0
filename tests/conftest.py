"""Shared fixtures: every test gets its own genesis home and fresh settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = [
    "fixtures.browser",
    "fixtures.lab",
    "fixtures.slurm",
    "fixtures.hub",
    "fixtures.postgres",
    "fixtures.challenges",
]


def pytest_collection_modifyitems(config, items) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) every integration test
    goes to one worker, so each real service (hub, SLURM, PostgreSQL, lab server) starts once per
    run and root-side state (Unix accounts, slurmctld, munge) never has two writers; the unit
    tests share the other worker."""
    real = pytest.mark.xdist_group("real")
    for item in items:
        if "integration" in item.path.relative_to(REPO / "tests").parts[:1]:
            item.add_marker(real)


@pytest.fixture(autouse=True)
def genesis_home(tmp_path_factory, monkeypatch) -> Path:
    """A private ``GENESIS_HOME`` for the test, with settings and caches reset."""
    from genesis_lab.settings import reset_settings

    home = tmp_path_factory.mktemp("genesis-home")
    monkeypatch.setenv("GENESIS_HOME", str(home))
    for var in ("GENESIS_SITE_FILE", "GENESIS_CATALOG_PATHS", "GENESIS_ALLOCATION",
                "GENESIS_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    yield home
    reset_settings()


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    from fixtures.net import free_port

    return free_port()
