"""The allocation mixin on a real JupyterHub spawner object: refusals, environment, resources."""

from __future__ import annotations

from types import SimpleNamespace

import jupyterhub.spawner
import pytest
import yaml

from genesis_lab.hub.metrics import SPAWN_REFUSALS
from genesis_lab.hub.spawner import AllocationRefused, LocalAllocationSpawner, SpawnRefused
from genesis_lab.settings import reset_settings

SITE = {
    "allocations": [
        {"id": "fusion", "account": "fes-1", "scheduler": "slurm", "queue": "debug",
         "cores": 4, "memory": "8GB", "walltime": "02:00:00", "members": ["alice"]},
        {"id": "laptop", "scheduler": "local", "cores": 2, "members": ["*"]},
        {"id": "spent", "scheduler": "local", "members": ["*"], "budget_core_hours": 0},
    ]
}  # fmt: skip


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(SITE))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(path))
    reset_settings()
    return path


def spawner_for(name: str, site) -> LocalAllocationSpawner:
    user = SimpleNamespace(name=name, escaped_name=name, url=f"/user/{name}/")
    return LocalAllocationSpawner(
        user=user, site_file=str(site), home_dir_template="/tmp/{username}"
    )


def test_form_lists_the_users_allocations_only(site):
    assert 'value="fusion"' in spawner_for("alice", site).render_options_form()
    bob_form = spawner_for("bob", site).render_options_form()
    assert 'value="laptop"' in bob_form and "fusion" not in bob_form


def test_applied_allocation_reaches_the_session_environment(site):
    s = spawner_for("alice", site)
    s.apply_allocation({"allocation": "fusion", "cores": "2", "memory": "4GB"})
    env = s.allocation_environment()
    assert env["GENESIS_ALLOCATION"] == "fusion"
    assert env["DASK_JOBQUEUE__SLURM__ACCOUNT"] == "fes-1"
    assert env["DASK_JOBQUEUE__SLURM__QUEUE"] == "debug"
    assert env["GENESIS_SITE_FILE"] == str(site)
    assert (s.cpu_limit, s.mem_limit) == (2.0, 4 * 10**9)
    assert s.user_options["allocation"] == "fusion"


def test_empty_options_take_the_users_first_allocation(site):
    s = spawner_for("bob", site)
    s.apply_allocation({})
    assert s.allocation.id == "laptop"


@pytest.mark.parametrize(
    ("user", "options", "status", "fragment"),
    [
        ("bob", {"allocation": "fusion"}, 403, "not a member of allocation 'fusion'"),
        ("bob", {"allocation": "nope"}, 403, "not a member of allocation 'nope'"),
        ("bob", {"allocation": "spent"}, 403, "budget of allocation 'spent' is spent"),
        ("alice", {"allocation": "fusion", "cores": "16"}, 400, "cores=16"),
        ("alice", {"allocation": "fusion", "memory": "64GB"}, 400, "memory=64GB"),
        ("alice", {"allocation": "fusion", "walltime": "03:00:00"}, 400, "walltime=03:00:00"),
        ("alice", {"allocation": "fusion", "cmd": "/bin/sh"}, 400, "Unknown session option"),
    ],
)
def test_refusals_carry_a_readable_reason(site, user, options, status, fragment):
    s = spawner_for(user, site)
    with pytest.raises(SpawnRefused) as err:
        s.apply_allocation(options)
    assert err.value.status_code == status
    assert fragment in err.value.jupyterhub_message
    assert s.allocation is None


REASONS = {"not a member": "not-member", "budget": "budget-spent", "=": "beyond-limits",
           "Unknown session option": "unknown-option"}  # fmt: skip


@pytest.mark.parametrize(
    ("user", "options", "fragment"),
    [
        ("bob", {"allocation": "fusion"}, "not a member"),
        ("bob", {"allocation": "spent"}, "budget"),
        ("alice", {"allocation": "fusion", "cores": "16"}, "="),
        ("alice", {"allocation": "fusion", "cmd": "/bin/sh"}, "Unknown session option"),
    ],
)
def test_refusals_are_spawn_exceptions_with_a_reason_label(site, user, options, fragment):
    """JupyterHub 6 labels a SpawnException's spawn 'failure' by its reason (not a hub error);
    the refusal counter moves once under the same label."""
    reason = REASONS[fragment]
    label = options["allocation"]
    before = SPAWN_REFUSALS.labels(label, reason)._value.get()
    with pytest.raises(AllocationRefused) as err:
        spawner_for(user, site).apply_allocation(options)
    assert err.value.reason == reason
    assert fragment in err.value.jupyterhub_message and fragment in err.value.message
    spawn_exception = getattr(jupyterhub.spawner, "SpawnException", None)
    if spawn_exception is not None:  # JupyterHub >= 6
        assert isinstance(err.value, spawn_exception)
        assert err.value.status_code in (400, 403)
    assert SPAWN_REFUSALS.labels(label, reason)._value.get() == before + 1


def test_form_options_may_carry_jupyterhub_6_prefixes(site):
    s = spawner_for("alice", site)
    opts = s.options_from_form({"opt-allocation": ["laptop"], "opt-cores": ["2"],
                                "_xsrf": ["x"], "next": ["/hub/home"]})  # fmt: skip
    assert (opts["allocation"], opts["cores"]) == ("laptop", "2")
    # prefixed fields win over bare ones, as JupyterHub 6 reads spawn queries
    mixed = s.options_from_form({"opt-allocation": ["laptop"], "allocation": ["fusion"]})
    assert mixed["allocation"] == "laptop"
    with pytest.raises(AllocationRefused) as err:
        s.options_from_form({"opt-": ["x"]})
    assert err.value.status_code == 400
    assert "allowed: allocation, cores, memory, walltime" in err.value.jupyterhub_message
    with pytest.raises(AllocationRefused) as err:
        s.options_from_form({"opt-allocation": ["fusion"], "opt-cmd": ["/bin/sh"]})
    assert "'cmd'" in err.value.jupyterhub_message


def test_form_post_is_checked_before_the_spawn(site):
    s = spawner_for("bob", site)
    with pytest.raises(SpawnRefused):
        s.options_from_form({"allocation": ["fusion"], "_xsrf": ["x"]})
    assert s.options_from_form({"allocation": ["laptop"], "_xsrf": ["x"]})["allocation"] == "laptop"


def test_a_resumed_sessions_pid_held_by_another_process_is_not_the_session(site):
    """After a hub restart the session is known by its pid; if the session ended meanwhile and
    Linux gave the pid to another process, the hub neither takes it for the session nor kills it."""
    import asyncio
    import subprocess
    import sys

    from genesis_lab.compute.commands import process_started

    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        session = spawner_for("alice", site)
        session.load_state({"pid": stranger.pid, "pid_started": process_started(stranger.pid) - 5})
        assert asyncio.run(session.poll()) == 0
        asyncio.run(session.stop())
        assert stranger.poll() is None and session.pid == 0

        same = spawner_for("alice", site)  # the session's own process: running, and stopped
        same.load_state({"pid": stranger.pid, "pid_started": process_started(stranger.pid)})
        assert same.get_state()["pid_started"] == process_started(stranger.pid)
        assert asyncio.run(same.poll()) is None
        asyncio.run(same.stop(now=True))
        assert stranger.wait(10) in (-15, -9)
    finally:
        stranger.kill()
        stranger.wait(10)
