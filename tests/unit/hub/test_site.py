"""The hub section of the site file and the launcher's secrets."""

from __future__ import annotations

import stat

import pytest

from genesis_lab.errors import SettingsError
from genesis_lab.hub.site import hub_site
from genesis_lab.settings import Settings


def test_defaults_are_the_embedded_platform():
    site = hub_site(Settings(hub={}))
    assert (site.ip, site.port, site.spawner, site.authenticator) == (
        "127.0.0.1", 8000, "local", "native",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("hub", "fragment"),
    [
        ({"spawner": "kubernetes"}, "hub.spawner"),
        ({"port": 0}, "hub.port"),
        ({"idle_timeout": -5}, "hub.idle_timeout"),
        ({"colour": "blue"}, "hub.colour"),
        ({"slurm": {"exec_prefix": 3}}, "hub.slurm.exec_prefix"),
        ({"one_time_password_hours": -1}, "hub.one_time_password_hours"),
    ],
)
def test_bad_hub_section_names_the_field(hub, fragment):
    with pytest.raises(SettingsError) as err:
        hub_site(Settings(hub=hub))
    assert fragment in str(err.value)


def test_first_start_writes_only_a_bcrypt_hash_of_the_admin_password(genesis_home):
    import bcrypt

    from genesis_lab.hub.launcher import prepare

    launch = prepare(port=18765)
    hash_file = launch.plan.state_dir / "first-admin.bcrypt"
    user, _, hashed = hash_file.read_text().strip().partition(":")
    assert user == launch.admin_user == "admin"
    assert bcrypt.checkpw(launch.admin_password.encode(), hashed.encode())
    for path in launch.plan.state_dir.iterdir():
        assert launch.admin_password not in path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(launch.plan.state_dir.stat().st_mode) == 0o700
    assert "--JupyterHub.bind_url=http://127.0.0.1:18765" in launch.argv


def test_the_shipped_site_file_is_valid(monkeypatch):
    from genesis_lab.compute.allocations import get_allocations
    from genesis_lab.hub.config import hub_plan
    from genesis_lab.settings import REPO_DIR, reset_settings

    monkeypatch.setenv("GENESIS_SITE_FILE", str(REPO_DIR / "hub_config" / "site.yaml"))
    reset_settings()
    plan = hub_plan()
    assert plan.site.spawner == "local" and plan.spawner_class == "genesis-local"
    assert get_allocations()["local"].members == ("*",)
    assert set(plan.load_groups) >= {"clearance-controlled", "clearance-export-controlled"}
    services = {svc["name"]: svc for svc in plan.services}
    assert set(services) == {"idle-culler", "genesis", "genesis-scheduler", "genesis-audit-witness"}
    assert "--timeout=3600" in services["idle-culler"]["command"]
    assert services["genesis"]["url"] == "http://127.0.0.1:10101"
    assert plan.spawner_environment == {
        "GENESIS_RESULTS_ROOT": str(plan.settings.results_root),
        "GENESIS_SERVICE_URL": "http://127.0.0.1:10101/services/genesis/",
    }
    # approval is membership of the vetted group, which the service reads on every request
    assert "GENESIS_VETTED_GROUP" not in services["genesis"]["environment"]
    assert plan.vetted_group == "vetted" and plan.load_groups["vetted"]["users"] == []


def test_every_hub_managed_service_gets_the_sites_paths(monkeypatch, tmp_path):
    from genesis_lab.hub.config import hub_plan
    from genesis_lab.settings import reset_settings

    monkeypatch.setenv("GENESIS_HOME", str(tmp_path / "site-home"))
    reset_settings()
    plan = hub_plan()
    for service in plan.services:
        if service["name"] in ("genesis", "genesis-scheduler"):
            assert service["environment"]["GENESIS_HOME"] == str(tmp_path / "site-home")
            assert service["environment"]["GENESIS_STATE_DIR"] == str(
                tmp_path / "site-home" / "state"
            )


def test_the_service_runs_as_its_own_account_only_when_the_hub_can_switch_users(tmp_path):
    import os

    from genesis_lab.hub.config import hub_plan

    svc = hub_plan(Settings(home=tmp_path)).genesis_service
    if os.geteuid() == 0:
        assert svc["user"] == "genesis" and "GENESIS_SINGLE_IDENTITY" not in svc["environment"]
    else:
        assert "user" not in svc and svc["environment"]["GENESIS_SINGLE_IDENTITY"] == "1"
