"""What squeue says, classified: an unreadable answer is never "the job is gone"."""

from __future__ import annotations

import pytest

from genesis_lab.hub.queue import GONE, PENDING, RUNNING, UNKNOWN, JobReport, classify


@pytest.mark.parametrize(
    ("code", "out", "err", "phase"),
    [
        (0, "PENDING (null)", "", PENDING),
        (0, "CONFIGURING node1", "", PENDING),
        (0, "RUNNING node1", "", RUNNING),
        (0, "COMPLETING node1", "", RUNNING),
        (0, "CANCELLED+ node1", "", GONE),
        (0, "FAILED node1", "", GONE),
        (0, "", "", GONE),
        (1, "", "slurm_load_jobs error: Invalid job id specified", GONE),
        (
            1,
            "",
            "slurm_load_jobs error: Unable to contact slurm controller (connect failure)",
            UNKNOWN,
        ),
        (1, "", "slurm_load_jobs error: Socket timed out on send/recv operation", UNKNOWN),
        (1, "", "squeue: error: Something nobody has seen before", UNKNOWN),
        (124, "", "squeue timed out after 30 s", UNKNOWN),
        (127, "", "No such file or directory: 'squeue'", UNKNOWN),
    ],
)
def test_classify(code, out, err, phase):
    assert classify(code, out, err).phase == phase


def test_pending_report_reads_like_a_queue_display():
    r = JobReport(phase=PENDING, state="PENDING", position=3,
                  start_estimate="2026-11-23T12:00:00", reason="Resources")  # fmt: skip
    assert r.describe() == (
        "Job pending in the queue (PENDING), position 3, estimated start 2026-11-23T12:00:00, "
        "reason: Resources"
    )
    assert "N/A" not in JobReport(phase=PENDING, state="PENDING", start_estimate="N/A").describe()


def test_a_cancelled_command_ends_with_its_caller_and_a_slow_one_times_out(tmp_path):
    import asyncio
    import time
    from pathlib import Path

    from genesis_lab.hub.queue import run_argv

    pid_file = tmp_path / "pid"

    async def cancel_mid_command():
        task = asyncio.ensure_future(
            run_argv(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 30"], timeout=60)
        )
        while not pid_file.exists() or not pid_file.read_text().strip():
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return int(pid_file.read_text())

    def running(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        except FileNotFoundError:
            return False

    pid = asyncio.run(cancel_mid_command())
    deadline = time.monotonic() + 5
    while running(pid):
        assert time.monotonic() < deadline, "the cancelled command still runs"
        time.sleep(0.05)
    t0 = time.monotonic()
    assert asyncio.run(run_argv(["sleep", "30"], timeout=0.3))[0] == 124
    assert time.monotonic() - t0 < 5
    assert asyncio.run(run_argv(["sh", "-c", "echo hi; exit 3"])) == (3, "hi\n", "")
