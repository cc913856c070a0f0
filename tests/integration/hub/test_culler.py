"""Idle sessions are stopped by jupyterhub-idle-culler, run by the hub with the site's timeout."""

from __future__ import annotations

import re
import time

import pytest
from fixtures.hub import _shutdown, start_hub

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def culling_hub(tmp_path_factory):
    hub = start_hub(tmp_path_factory.mktemp("culling-hub"),
                    extra_hub={"idle_timeout": 15, "cull_every": 5})  # fmt: skip
    yield hub
    _shutdown(hub)


def test_an_idle_session_is_culled_after_the_site_timeout(culling_hub):
    hub = culling_hub
    services = hub.api("GET", "/services", hub.ensure_admin_token()).json()
    assert "idle-culler" in services
    assert "--timeout=15" in services["idle-culler"]["command"]
    name = hub.new_user()
    assert hub.spawn(name, {"allocation": "open-local", "memory": "512MiB"}).status_code in (
        201,
        202,
    )
    hub.wait_ready(name)
    started = time.monotonic()
    while time.monotonic() - started < 120:
        servers = hub.api("GET", f"/users/{name}", hub.ensure_admin_token()).json()["servers"]
        if "" not in servers:
            break
        time.sleep(1)
    culled_after = time.monotonic() - started
    assert "" not in servers, "idle session still running after 120 s"
    assert culled_after >= 5  # not stopped at once: it was idle for the timeout first
    # stopped by the culler service, not by anyone else
    assert re.search(rf"DELETE /hub/api/users/{name}/server \([^)]*idle-culler", hub.log())
