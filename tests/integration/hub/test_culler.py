"""Idle sessions are stopped by jupyterhub-idle-culler, run by the hub with the site's timeout."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time

import pytest
from fixtures.hub import _shutdown, hub_base, start_hub

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(240)]

TIMEOUT = 15  # hub.idle_timeout, seconds
CULL_EVERY = 5  # hub.cull_every: the culler looks this often
SLACK = 3  # the culler's own requests and timing


@pytest.fixture(scope="module")
def culling_hub():
    base = hub_base("culling-hub")
    hub = start_hub(base, extra_hub={"idle_timeout": TIMEOUT, "cull_every": CULL_EVERY})
    yield hub
    _shutdown(hub)
    shutil.rmtree(base, ignore_errors=True)


def _seconds(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _cull_request(hub, name: str) -> float:
    """When the culler's DELETE of ``name``'s server reached the hub (its log line's time, which
    is the answer's, less the request's duration); hub log times are local, as is this test's."""
    pattern = re.compile(
        r"\[I (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) GenesisHub \S+\] \d{3} DELETE "
        rf"/hub/api/users/{name}/server \([^)]*idle-culler[^)]*\) ([\d.]+)ms"
    )
    deadline = time.monotonic() + 15  # the line is written once the answer is sent
    while not (found := pattern.search(hub.log())) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found, f"no DELETE of {name}'s server by the idle-culler in the hub log"
    answered = dt.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    return answered - float(found.group(2)) / 1000


def test_an_idle_session_is_culled_after_the_site_timeout(culling_hub):
    hub = culling_hub
    token = hub.ensure_admin_token()
    services = hub.api("GET", "/services", token).json()
    assert "idle-culler" in services
    assert f"--timeout={TIMEOUT}" in services["idle-culler"]["command"]
    name = hub.new_user()
    reply = hub.spawn(name, {"allocation": "open-local", "memory": "512MiB"})
    assert reply.status_code in (201, 202), reply.text
    ready = hub.wait_ready(name)["servers"][""]
    # (when polled, the server's last_activity then): what the culler judges idleness by
    seen = [(time.time(), _seconds(ready["last_activity"]))]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        server = hub.api("GET", f"/users/{name}", token).json()["servers"].get("")
        if server is None:
            break
        seen.append((time.time(), _seconds(server["last_activity"])))
        time.sleep(0.5)
    assert server is None, "idle session still running after 120 s"
    # stopped by the culler service, not by anyone else, and when: the last activity the hub
    # showed before that request is the one the culler judged
    asked = _cull_request(hub, name)
    before = [activity for polled, activity in seen if polled <= asked]
    last_activity = max(before) if before else seen[0][1]  # culled before ready returned
    idle = asked - last_activity
    print(f"cull asked {idle:.1f} s after the last activity (timeout {TIMEOUT} s, checks "
          f"every {CULL_EVERY} s), session gone {time.time() - asked:.1f} s later")  # fmt: skip
    # not before the timeout, and at the first check after it
    assert TIMEOUT <= idle <= TIMEOUT + CULL_EVERY + SLACK, (idle, seen[-3:])
