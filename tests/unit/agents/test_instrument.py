"""The Instrument adapter: a simulated laboratory with noise, latency and failed measurements."""

from __future__ import annotations

import datetime as dt
import itertools
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
    c.run()
    trials = c.trials
    assert len(trials) == 12 and inst.submitted == 12
    assert c.stats["rounds"] == 3
    failed = [t for t in trials if t["status"] == "failed"]
    assert failed and all("failed on the instrument" in t["error"] for t in failed)
    done = [t for t in trials if t["status"] == "complete"]
    assert all(t["duration_s"] >= 0.02 for t in done)
    assert all(abs(t["values"][0] - _surface(t["params"])["y"]) < 0.01 for t in done)
    assert len({t["job"] for t in trials}) == 12


class _Logbook:
    """An instrument wrapper that notes the monotonic time of every submit and result call."""

    def __init__(self, inner: SimulatedInstrument) -> None:
        self.inner = inner
        self.events: list[tuple[str, dict, float]] = []

    def submit(self, params):
        job = self.inner.submit(params)
        self.events.append(("submit", dict(params), time.monotonic()))
        return job

    def poll(self, job):
        return self.inner.poll(job)

    def result(self, job):
        try:
            return self.inner.result(job)
        finally:
            self.events.append(("result", dict(self.inner._jobs[job].params), time.monotonic()))


def _intervals(trials):
    def seconds(stamp):
        return dt.datetime.fromisoformat(stamp).timestamp()

    return [(seconds(t["started"]), seconds(t["finished"])) for t in trials]


def test_a_batch_is_measured_together_and_rounds_one_after_another():
    """Within a round, every measurement is submitted before any is read, so their
    (started, finished) intervals share a common moment; round r + 1 starts after round r ends."""
    inst = _Logbook(SimulatedInstrument(_surface, noise=0.0, latency=0.05, seed=1))
    c = Campaign({"x": (0.0, 1.0)}, "y", "random", batch_size=4, budget=12, experiment=inst, seed=0)
    assert isinstance(inst, Instrument)
    c.run()
    trials = c.trials
    rounds = sorted({t["round"] for t in trials})
    assert rounds == [0, 1, 2]
    spans = []
    for r in rounds:
        batch = [t for t in trials if t["round"] == r]
        assert len(batch) == 4
        intervals = _intervals(batch)
        latest_start = max(a for a, _ in intervals)
        earliest_end = min(b for _, b in intervals)
        assert latest_start < earliest_end, (r, intervals)  # all four overlap
        spans.append((min(a for a, _ in intervals), max(b for _, b in intervals)))
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start  # a round's batch is asked for once the previous one is told
    # the instrument saw 4 submits, then 4 reads, three times over
    kinds = [kind for kind, _, _ in inst.events]
    assert kinds == (["submit"] * 4 + ["result"] * 4) * 3
    submitted = {tuple(p.items()) for kind, p, _ in inst.events if kind == "submit"}
    assert submitted == {tuple(t["params"].items()) for t in trials}
