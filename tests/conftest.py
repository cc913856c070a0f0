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
    "fixtures.fake_hub",
]


# integration modules that start no hub, SLURM, PostgreSQL or Unix account: they may run beside
# the others on the second worker
STANDALONE = {
    "data/test_http_zarr.py",
    "pipelines/test_cache_code.py",
    "pipelines/test_challenges.py",
    "pipelines/test_cli.py",
    "pipelines/test_cluster_flag.py",
    "pipelines/test_crate_validates.py",
    "pipelines/test_fusion_challenges.py",
    "pipelines/test_runner.py",
    "pipelines/test_sigkill.py",
    "report/test_report_browser.py",
    "training/test_notebooks.py",
    "mcp/test_stdio.py",
}
REAL_FIXTURES = {"hub", "slurm_hub", "slurm", "postgres", "service_hub", "lab_server"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) every test that meets a
    real service goes to one worker, so each (hub, SLURM, PostgreSQL, lab server) starts once per
    run and root-side state (Unix accounts, slurmctld, munge) never has two writers; unit tests
    and the standalone integration modules share the other worker."""
    real = pytest.mark.xdist_group("real")
    for item in items:
        parts = item.path.relative_to(REPO / "tests").parts
        standalone = parts[0] != "integration" or "/".join(parts[1:]) in STANDALONE
        if not standalone or REAL_FIXTURES & set(item.fixturenames):
            item.add_marker(real)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session) -> None:
    """Fail the run, not just slow it, when xdist drops the groups (it did with pytest 9.2)."""
    if session.config.getvalue("loadgroup") if hasattr(session.config.option, "loadgroup") else 0:
        lost = [i.nodeid for i in session.items
                if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]  # fmt: skip
        if lost:
            raise pytest.UsageError(f"--dist loadgroup ignored the xdist_group of {lost[0]} and "
                                    f"{len(lost) - 1} more: pytest and pytest-xdist disagree")  # fmt: skip


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
