"""The Instrument adapter: a simulated laboratory with noise, latency and failed measurements."""

from __future__ import annotations

import time

import pytest

from genesis_lab.agents import Campaign, Instrument, InstrumentError, SimulatedInstrument


def _surface(p):
    return {"y": (p["x"] - 0.25) ** 2}


def test_simulated_instrument_protocol_latency_and_noise():
    inst = SimulatedInstrument(_surface, noise=0.01, latency=0.05, seed=0)
    assert isinstance(inst, Instrument)
    job = inst.submit({"x": 0.75})
    assert inst.poll(job) == "running"
    with pytest.raises(InstrumentError, match="still running"):
        inst.result(job)
    time.sleep(0.06)
    assert inst.poll(job) == "done"
    y = inst.result(job)["y"]
    assert abs(y - 0.25) < 0.06 and y != 0.25  # noisy, within 6 sigma
    assert inst.result(job)["y"] == y  # a measurement is read once, not re-drawn


def test_campaign_on_an_instrument_with_latency_and_failures():
    inst = SimulatedInstrument(
        _surface, noise=0.001, latency=(0.02, 0.05), failure_rate=0.25, seed=4
    )
    c = Campaign({"x": (0.0, 1.0)}, "y", "random", batch_size=4, budget=12, experiment=inst, seed=0)
    t0 = time.perf_counter()
    c.run()
    elapsed = time.perf_counter() - t0
    trials = c.trials
    assert len(trials) == 12 and inst.submitted == 12
    assert c.stats["rounds"] == 3
    failed = [t for t in trials if t["status"] == "failed"]
    assert failed and all("failed on the instrument" in t["error"] for t in failed)
    done = [t for t in trials if t["status"] == "complete"]
    assert all(t["duration_s"] >= 0.02 for t in done)
    assert all(abs(t["values"][0] - _surface(t["params"])["y"]) < 0.01 for t in done)
    assert len({t["job"] for t in trials}) == 12
    # a batch's measurements run together: 3 rounds take about 3 latencies, not 12
    assert elapsed < 12 * 0.02 + 1.0
