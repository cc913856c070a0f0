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


# modules that drive the machine's one SLURM (or Unix accounts it runs jobs as) without asking
# for the fixture by name
SLURM_MODULES = {
    "integration/compute/test_site_ledger.py",
    "integration/pipelines/test_dev_slurm.py",
    "integration/pipelines/test_schedules_as_owner.py",
}
# a test's group: the first of its session-scoped real parts (service_hub runs on the hub)
GROUP_OF_FIXTURE = {"slurm": "slurm", "slurm_hub": "slurm", "hub": "hub", "service_hub": "hub",
                    "lab_server": "lab", "postgres": "postgres"}  # fmt: skip


def xdist_group_of(module: str, fixtures: set[str]) -> str | None:
    """The worker group of a test: all the users of one real part (SLURM, the session hub, the
    lab server, PostgreSQL) together, so each starts once; an integration module otherwise as a
    whole, so a module-scoped hub of its own starts once; unit tests anywhere."""
    if module in SLURM_MODULES:
        return "slurm"
    for fixture, group in GROUP_OF_FIXTURE.items():
        if fixture in fixtures:
            return group
    return module if module.startswith("integration/") else None


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) the groups of
    :func:`xdist_group_of` go whole to one worker, the rest wherever a worker is free."""
    for item in items:
        group = xdist_group_of("/".join(item.path.relative_to(REPO / "tests").parts),
                               set(item.fixturenames))  # fmt: skip
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


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
