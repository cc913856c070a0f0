"""The hub application's shutdown: bounded, and it names the task that would not end."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import time

from genesis_lab.hub.app import GenesisHub


def test_shutdown_stops_the_loop_in_time_and_logs_a_task_that_ignores_its_cancel():
    hub = GenesisHub(shutdown_task_timeout=0.5)
    logged = logging.handlers.BufferingHandler(100)
    hub.log.addHandler(logged)
    stopped = []

    async def cleaned_up():
        return None

    hub.cleanup = cleaned_up
    hub._stop_event_loop = lambda: stopped.append(True)
    running = {"stubborn": True}
    ends_anyway = time.monotonic() + 20  # a failing test does not hang asyncio.run's clean-up

    async def stubborn_poll_loop():
        while running["stubborn"] and time.monotonic() < ends_anyway:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # the cancel is lost, as in a wait_for that swallowed it

    async def main():
        from tornado.ioloop import PeriodicCallback

        health_check = PeriodicCallback(lambda: None, 1000)
        health_check.start()
        hub._periodic_callbacks["service_check"] = health_check
        stubborn = asyncio.ensure_future(stubborn_poll_loop())
        polite = asyncio.ensure_future(asyncio.sleep(60))
        await asyncio.sleep(0.1)
        t0 = time.monotonic()
        await hub.shutdown_cancel_tasks()
        took = time.monotonic() - t0
        assert polite.cancelled() and not stubborn.done()
        assert not health_check.is_running()
        running["stubborn"] = False
        await stubborn
        return took

    try:
        took = asyncio.run(main())
    finally:
        hub.log.removeHandler(logged)
    assert 0.5 <= took < 3 and stopped == [True]
    [record] = [r for r in logged.buffer if "still running" in r.getMessage()]
    assert "stubborn_poll_loop" in record.getMessage()
