"""Kill a campaign with SIGKILL mid-way, resume it, and check no finished trial ran again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from genesis_lab.agents import Campaign

    calls = sys.argv[1]

    def experiment(p):
        with open(calls, "a") as fh:
            fh.write(json.dumps(p) + "\\n")
        time.sleep(0.15)
        return {"y": (p["x"] - 0.3) ** 2}

    c = Campaign({"x": (0.0, 1.0)}, "y", sys.argv[3], budget=int(sys.argv[2]),
                 batch_size=int(sys.argv[4]), experiment=experiment, name="killed", seed=7)
    c.run()
    print("done", len(c.trials))
    """
)


def _run(tmp_path, budget, env, policy, batch_size):
    script = tmp_path / "campaign.py"
    script.write_text(SCRIPT)
    calls = tmp_path / "calls.jsonl"
    return subprocess.Popen(
        [sys.executable, str(script), str(calls), str(budget), policy, str(batch_size)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("policy", "batch_size"), [("random", 2), ("bayes", 4)])
def test_sigkill_then_resume_runs_only_the_unfinished_trials(
    tmp_path, genesis_home, policy, batch_size
):
    env = {**os.environ, "GENESIS_HOME": str(genesis_home)}
    budget = 14
    trials_file = genesis_home / "state" / "campaigns" / "killed" / "trials.jsonl"
    calls_file = tmp_path / "calls.jsonl"

    proc = _run(tmp_path, budget, env, policy, batch_size)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if trials_file.exists() and len(trials_file.read_text().splitlines()) >= 5:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)  # reap it and close its pipes
    assert proc.returncode == -signal.SIGKILL

    before = [json.loads(line) for line in trials_file.read_text().splitlines() if line.strip()]
    n_before = len(before)
    assert 5 <= n_before < budget
    calls_before = len(calls_file.read_text().splitlines())

    proc = _run(tmp_path, budget, env, policy, batch_size)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip() == f"done {budget}"

    trials = [json.loads(line) for line in trials_file.read_text().splitlines()]
    assert len(trials) == budget
    assert [t["number"] for t in trials] == list(range(budget))
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    # after the resume the experiment ran exactly the trials that were missing
    assert len(calls) - calls_before == budget - n_before
    finished_x = {t["params"]["x"] for t in before}
    assert not finished_x & {c["x"] for c in calls[calls_before:]}
