"""The hub charges each session once when it ends, to the site ledger: a local session as its
cores x elapsed, a batch job from the scheduler's record, also when poll cleared the job first."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace

import pytest

from genesis_lab.compute.ledger import get_ledger
from genesis_lab.hub.spawner import AllocationSpawnerMixin


class _Base:
    """The bits of a JupyterHub spawner the mixin's charge uses."""

    job_id = ""

    def __init__(self) -> None:
        self.user_options: dict = {}
        self.user = SimpleNamespace(name="alice")
        self.log = logging.getLogger("test")

    def get_state(self) -> dict:
        return {}

    def load_state(self, state: dict) -> None:
        pass

    def clear_state(self) -> None:
        self.job_id = ""

    def run_post_stop_hook(self) -> None:
        return None


class Spawner(AllocationSpawnerMixin, _Base):
    job_record: tuple[int, float, float] | None = None

    async def _job_usage(self, job_id: str):
        return self.job_record


def test_a_local_session_is_charged_its_cores_times_elapsed_once(genesis_home):
    s = Spawner()
    s._genesis_charge = {"allocation": "a", "cores": 2, "start": time.time() - 1800}
    s.load_state(s.get_state())  # survives a hub restart
    asyncio.run(s.run_post_stop_hook())
    s.clear_state()
    asyncio.run(s.run_post_stop_hook())
    recs = list(get_ledger().records())
    assert len(recs) == 1
    assert (recs[0].user, recs[0].kind, recs[0].source) == ("alice", "session", "session-lifetime")
    assert recs[0].core_hours == pytest.approx(1.0, abs=0.01)


def test_a_job_found_ended_by_poll_is_charged_from_its_record_once(genesis_home):
    s = Spawner()
    s.user_options = {"allocation": "a"}
    s.job_id, s.job_record = "77", (4, 1_000.0, 1_000.0 + 900)
    s.clear_state()  # batchspawner's poll: the job is gone, its id cleared before the hook
    asyncio.run(s.run_post_stop_hook())
    s.clear_state()  # JupyterHub clears again after the hook
    # the next session is stopped by the hub: its job id is still there during the hook
    s.job_id, s.job_record = "78", (1, 0.0, 3_600.0)
    asyncio.run(s.run_post_stop_hook())
    s.clear_state()
    asyncio.run(s.run_post_stop_hook())  # a spawn that failed before any job: nothing to charge
    recs = [(r.ref, r.cores, r.core_hours, r.source) for r in get_ledger().records()]
    assert recs == [("77", 4, 1.0, "job-lifetime"), ("78", 1, 1.0, "job-lifetime")]
