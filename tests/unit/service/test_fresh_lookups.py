"""FreshLookups: concurrent requests share hub lookups, never one older than themselves."""

from __future__ import annotations

import asyncio
import random

import pytest

from genesis_lab.service.auth import FreshLookups


def test_every_answer_comes_from_a_lookup_started_after_the_request_arrived():
    async def main() -> None:
        loop = asyncio.get_running_loop()
        lookups = FreshLookups()
        starts: list[float] = []
        rng = random.Random(3)

        async def fetch(key: str) -> int:
            starts.append(loop.time())
            await asyncio.sleep(rng.uniform(0.001, 0.01))
            return len(starts) - 1  # which lookup answered

        async def request(delay: float) -> tuple[float, int]:
            await asyncio.sleep(delay)
            arrived = loop.time()
            return arrived, await lookups.get("token", fetch)

        results = await asyncio.gather(*(request(rng.uniform(0, 0.05)) for _ in range(200)))
        for arrived, lookup in results:
            assert starts[lookup] >= arrived
        assert len(starts) < 100  # and they were shared

    asyncio.run(main())


def test_a_revocation_before_arrival_is_always_seen():
    async def main() -> None:
        lookups = FreshLookups()
        state = {"cleared": True}

        async def fetch(key: str) -> bool:
            seen = state["cleared"]
            await asyncio.sleep(0.01)
            return seen

        first = asyncio.ensure_future(lookups.get("t", fetch))
        await asyncio.sleep(lookups.window + 0.003)  # its lookup is running, cleared
        state["cleared"] = False  # the admin revokes while that lookup runs
        second = await lookups.get("t", fetch)
        assert await first is True and second is False

    asyncio.run(main())


def test_failures_reach_every_waiter_and_keys_are_separate():
    async def main() -> None:
        lookups = FreshLookups()
        calls: list[str] = []

        async def fetch(key: str) -> str:
            calls.append(key)
            await asyncio.sleep(0.005)
            if key == "bad":
                raise RuntimeError("hub down")
            return key

        results = await asyncio.gather(
            *(lookups.get(k, fetch) for k in ["bad", "bad", "bad", "good", "good"]),
            return_exceptions=True,
        )
        assert [str(r) for r in results] == ["hub down"] * 3 + ["good"] * 2
        assert sorted(calls) == ["bad", "good"]  # one lookup per key for a burst

    asyncio.run(main())


@pytest.mark.parametrize("waiters", [1, 8])
def test_nothing_is_left_behind(waiters):
    async def main() -> None:
        lookups = FreshLookups()

        async def fetch(key: str) -> int:
            await asyncio.sleep(0.001)
            return 1

        await asyncio.gather(*(lookups.get("t", fetch) for _ in range(waiters)))
        assert not lookups._running and not lookups._waiting and not lookups._tasks

    asyncio.run(main())
