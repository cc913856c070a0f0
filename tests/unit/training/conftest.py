"""Every training unit test talks to a stand-in hub (``fixtures.fake_hub``): courses need a hub group."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _hub_for_courses(fake_hub):
    return fake_hub
