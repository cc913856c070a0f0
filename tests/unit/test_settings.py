"""Settings: environment over site file over defaults, with errors that name the field."""

import pytest

from genesis_lab.errors import SettingsError
from genesis_lab.settings import get_settings, load_settings, reset_settings


def test_defaults_derive_from_home(genesis_home):
    s = get_settings()
    assert s.home == genesis_home
    assert s.data_root == genesis_home / "data"
    assert s.results_root == genesis_home / "results"
    assert s.state_dir == genesis_home / "state"


def test_site_file_and_environment_precedence(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text(
        "results_root: runs\n"
        "catalog_paths: [cat1, /abs/cat2]\n"
        "allocation: from-site\n"
        "allocations:\n  - {id: a1, account: acc, scheduler: local}\n"
    )
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    monkeypatch.setenv("GENESIS_ALLOCATION", "from-env")
    reset_settings()
    s = get_settings()
    assert s.results_root == tmp_path / "runs"  # relative to the site file
    assert s.catalog_paths == [tmp_path / "cat1", tmp_path.__class__("/abs/cat2")]
    assert s.allocation == "from-env"
    assert s.allocations[0]["id"] == "a1"
    assert s.site_file == site


def test_path_lists_split_on_pathsep(monkeypatch, tmp_path):
    monkeypatch.setenv("GENESIS_CATALOG_PATHS", f"{tmp_path}/a:{tmp_path}/b")
    reset_settings()
    assert get_settings().catalog_paths == [tmp_path / "a", tmp_path / "b"]


def test_unknown_site_key_names_the_field(tmp_path, monkeypatch):
    site = tmp_path / "site.yaml"
    site.write_text("results_rot: x\n")
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    with pytest.raises(SettingsError, match="results_rot"):
        load_settings()


def test_missing_site_file_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("GENESIS_SITE_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsError, match="GENESIS_SITE_FILE"):
        load_settings()


@pytest.mark.parametrize(
    ("section", "field", "allowed"),
    [
        ("results_readable: everyone", "results_readable", "'site' or 'owner'"),
        ("kernel_start_timeout: 1", "kernel_start_timeout", "greater than or equal to 5"),
        ("scheduler_interval: 0", "scheduler_interval", "greater than 0"),
        ("kernel_timeout: 60", "kernel_timeout", "Extra inputs"),
    ],
)
def test_a_bad_pipelines_setting_names_the_field_and_what_is_allowed(
    tmp_path, monkeypatch, section, field, allowed
):
    site = tmp_path / "site.yaml"
    site.write_text(f"pipelines:\n  {section}\n")
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert f"pipelines.{field}" in str(info.value) and allowed in str(info.value)


def test_pipelines_settings_default_and_read_from_the_site_file(tmp_path, monkeypatch):
    assert load_settings().pipelines.kernel_start_timeout == 120
    site = tmp_path / "site.yaml"
    site.write_text("pipelines:\n  kernel_start_timeout: 30\n  results_readable: owner\n")
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    s = load_settings()
    assert (s.pipelines.kernel_start_timeout, s.pipelines.results_readable) == (30, "owner")
