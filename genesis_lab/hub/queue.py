"""What SLURM says about one job: its state, place in the queue, estimated start and reason.

Argument lists only (no shell); an unreadable answer is ``UNKNOWN``, never "the job is gone".
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

__all__ = [
    "GONE",
    "PENDING",
    "RUNNING",
    "UNKNOWN",
    "JobReport",
    "classify",
    "job_report",
    "node_address",
    "run_argv",
]

PENDING, RUNNING, GONE, UNKNOWN = "pending", "running", "gone", "unknown"

_PENDING_STATES = {"PENDING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED", "REQUEUE_HOLD"}
_RUNNING_STATES = {"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING"}
# squeue's answer when the controller no longer knows the job id: the job has ended
_GONE_ERRORS = re.compile(r"Invalid job id specified", re.IGNORECASE)


@dataclass
class JobReport:
    """One look at a job: ``phase`` is pending, running, gone or unknown.

    >>> JobReport(phase="pending", state="PENDING", position=2).describe()
    'Job pending in the queue (PENDING), position 2'
    """

    phase: str
    state: str = ""
    host: str = ""
    reason: str = ""
    position: int | None = None
    start_estimate: str = ""
    error: str = ""

    def describe(self) -> str:
        """One line for the spawn page."""
        if self.phase == PENDING:
            text = f"Job pending in the queue ({self.state})"
            if self.position:
                text += f", position {self.position}"
            if self.start_estimate and self.start_estimate not in {"N/A", "Unknown"}:
                text += f", estimated start {self.start_estimate}"
            if self.reason and self.reason not in {"None", "(null)"}:
                text += f", reason: {self.reason}"
            return text
        if self.phase == RUNNING:
            return f"Job running on {self.host or 'its node'}; waiting for JupyterLab to answer"
        if self.phase == GONE:
            return f"Job ended ({self.state or 'no longer in the queue'})"
        return f"Scheduler did not answer: {self.error or 'no output'}; will ask again"


def classify(returncode: int, stdout: str, stderr: str) -> JobReport:
    """Turn the output of ``squeue -h -j ID -o '%T %B'`` into a :class:`JobReport`.

    >>> classify(0, "RUNNING node1", "").phase, classify(0, "", "").phase
    ('running', 'gone')
    >>> classify(1, "", "slurm_load_jobs error: Invalid job id specified").phase
    'gone'
    >>> classify(1, "", "slurm_load_jobs error: Unable to contact slurm controller").phase
    'unknown'
    """
    if returncode != 0:
        if _GONE_ERRORS.search(stderr):
            return JobReport(phase=GONE, error=stderr.strip())
        return JobReport(phase=UNKNOWN, error=(stderr or stdout).strip()[:300])
    words = stdout.strip().split()
    if not words:
        return JobReport(phase=GONE)
    state, host = words[0].rstrip("+"), (words[1] if len(words) > 1 else "")
    if state in _PENDING_STATES:
        return JobReport(phase=PENDING, state=state)
    if state in _RUNNING_STATES:
        return JobReport(phase=RUNNING, state=state, host=host)
    return JobReport(phase=GONE, state=state)


async def run_argv(argv: list[str], timeout: float = 30.0) -> tuple[int, str, str]:
    """Run ``argv`` without a shell; returns (exit code, stdout, stderr); 127 if not found."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError as exc:
        return 127, "", str(exc)
    try:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancel that comes
        # as the command ends, and a hub poll loop then outlives the hub's shutdown
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, "", f"{argv[0]} timed out after {timeout:g} s"
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
            proc.kill()
        await proc.wait()  # a killed process ends at once
        raise
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def queued_jobs(
    user: str | None = None, timeout: float = 30.0
) -> list[tuple[str, str, str]] | None:
    """(id, name, user) of every queued or running job (of ``user``); ``None`` if squeue did not
    answer."""
    mine = ["-u", user] if user else []
    code, out, _ = await run_argv(["squeue", "-h", *mine, "-o", "%i|%u|%j"], timeout)
    if code != 0:
        return None
    rows = (line.strip().split("|", 2) for line in out.splitlines() if line.count("|") >= 2)
    return [(job_id, name, user) for job_id, user, name in rows]


async def job_report(job_id: str, *, detail: bool = False, timeout: float = 30.0) -> JobReport:
    """Ask squeue about ``job_id``; with ``detail``, add queue position, start estimate, reason."""
    code, out, err = await run_argv(["squeue", "-h", "-j", job_id, "-o", "%T %B"], timeout)
    report = classify(code, out, err)
    if not detail or report.phase != PENDING:
        return report
    code, out, _ = await run_argv(
        ["squeue", "-h", "--start", "-j", job_id, "-o", "%S|%r|%P"], timeout
    )
    if code == 0 and out.strip():
        start, reason, partition = [*out.strip().split("|"), "", "", ""][:3]
        report.start_estimate, report.reason = start.strip(), reason.strip()
        code, out, _ = await run_argv(
            ["squeue", "-h", "-t", "PD", "-p", partition.strip(), "--sort=-p,i", "-o", "%i"],
            timeout,
        )
        if code == 0:
            ids = [line.strip() for line in out.splitlines()]
            if job_id in ids:
                report.position = ids.index(job_id) + 1
    return report


async def job_end_reason(job_id: str) -> str:
    """The scheduler's account of why a job ended (state, reason, exit code), or ''."""
    code, out, _ = await run_argv(["scontrol", "show", "job", "-o", job_id])
    if code != 0 or not out.strip():
        return ""
    fields = dict(
        part.split("=", 1)
        for part in out.strip().split()
        if "=" in part and not part.startswith("=")
    )
    bits = [f"{k}={fields[k]}" for k in ("JobState", "Reason", "ExitCode") if k in fields]
    return ", ".join(bits)


async def node_address(node: str) -> str:
    """The address the hub reaches ``node`` at: its DNS name if it resolves, else SLURM's NodeAddr."""
    import socket

    try:
        await asyncio.get_running_loop().getaddrinfo(node, None)
        return node
    except (socket.gaierror, UnicodeError):
        pass
    code, out, _ = await run_argv(["scontrol", "show", "node", "-o", node])
    match = re.search(r"\bNodeAddr=(\S+)", out) if code == 0 else None
    return match.group(1) if match else node
