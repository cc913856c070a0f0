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
