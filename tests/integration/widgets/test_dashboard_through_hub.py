"""Through the real hub: the dask dashboard under /user/<name>/proxy/<port>/ is the owner's only.

ClusterStatus builds that link inside the session; anonymous requests and another user's token
are refused, the owner's token gets the dashboard.
"""

from __future__ import annotations

import pytest
import requests

pytestmark = [pytest.mark.hub, pytest.mark.slow]


def test_proxied_dashboard_is_refused_to_all_but_its_owner(hub, dashboard_port):
    owner, other = hub.new_user(), hub.new_user()
    r = hub.spawn(owner, {"allocation": "open-local"})
    assert r.status_code in (201, 202), r.text
    hub.wait_ready(owner)
    link = hub.run_code(
        owner,
        "from genesis_lab.widgets.cluster_status import dashboard_url\n"
        f"print(dashboard_url('http://127.0.0.1:{dashboard_port}/status'))",
    ).strip()
    assert link == f"/user/{owner}/proxy/{dashboard_port}/status"
    url = hub.url + link

    def status(headers=None):
        resp = requests.get(url, headers=headers or {}, allow_redirects=False, timeout=30)
        resp.close()
        return resp.status_code

    assert status() in (302, 403)
    assert status({"Authorization": f"token {hub.user_token(other)}"}) in (403, 404)
    assert status({"Authorization": "token forged-token"}) in (302, 403)
    assert status({"Authorization": f"token {hub.user_token(owner)}"}) == 200
    hub.stop_server(owner)
