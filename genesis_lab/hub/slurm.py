"""Sessions as SLURM jobs charged to the allocation's account (batchspawner's SlurmSpawner).

Fixes what batchspawner's issues #315/#215 describe: an unreadable ``squeue`` never marks a running
session stopped, and a job whose cancel failed is remembered and cancelled later, never forgotten.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import sys
from pathlib import Path
from typing import Any

from batchspawner import SlurmSpawner
from batchspawner.batchspawner import JobStatus
from jupyterhub.spawner import Spawner
from traitlets import Float, Integer, Unicode, default

from genesis_lab.access.unix import is_system_account, people_uids
from genesis_lab.compute.allocations import Allocation
from genesis_lab.compute.jobnames import allocation_comment, session_of
from genesis_lab.fileio import atomic_write_text
from genesis_lab.hub import queue
from genesis_lab.hub.options import SessionRequest
from genesis_lab.hub.spawner import AllocationSpawnerMixin, SpawnRefused

__all__ = ["SlurmAllocationSpawner"]

_BATCH_SCRIPT = """#!/bin/bash
#SBATCH --output={{homedir}}/.genesis-session-%j.log
#SBATCH --job-name=genesis-session-{{username}}
#SBATCH --chdir={{homedir}}
#SBATCH --export={{keepvars}}
#SBATCH --account={{account}}
{% if comment %}#SBATCH --comment={{comment}}
{% endif %}{% if partition %}#SBATCH --partition={{partition}}
{% endif %}{% if runtime %}#SBATCH --time={{runtime}}
{% endif %}{% if memory %}#SBATCH --mem={{memory}}
{% endif %}{% if nprocs %}#SBATCH --cpus-per-task={{nprocs}}
{% endif %}{% if options %}#SBATCH {{options}}
{% endif %}
set -euo pipefail
{{prologue}}
{% if srun %}{{srun}} {% endif %}{{cmd}}
{{epilogue}}
"""


class SlurmAllocationSpawner(AllocationSpawnerMixin, SlurmSpawner):
    """A session is a SLURM job with ``--account`` and partition from the chosen allocation.

    While the job is pending, the spawn page shows its state, queue position and estimated
    start (``squeue --start``); a job that ends before JupyterLab answers fails the spawn with the
    scheduler's reason.
    """

    batch_script = Unicode(_BATCH_SCRIPT, help="Job script template (jinja2).").tag(config=True)

    orphan_file = Unicode(
        "",
        help="JSON file of job ids whose scancel failed; they are cancelled at the next poll.",
    ).tag(config=True)

    unknown_grace = Float(
        600.0,
        help="Seconds the scheduler may stay unreadable before a starting session gives up.",
    ).tag(config=True)

    progress_interval = Float(2.0, help="Seconds between queue reports on the spawn page.").tag(
        config=True
    )

    cancel_attempts = Integer(5, help="scancel tries in stop() before the job is remembered.").tag(
        config=True
    )

    command_timeout = Float(
        30.0, help="Seconds a squeue/scancel may take before its answer counts as unknown."
    ).tag(config=True)

    reap_interval = Float(5.0, help="Seconds between retries of cancels that failed.").tag(
        config=True
    )

    req_comment = Unicode(
        "", help="The session job's comment: the allocation it is charged to (set per spawn)."
    )

    @default("req_srun")
    def _no_srun(self) -> str:
        return ""

    @default("batchspawner_singleuser_cmd")
    def _singleuser_wrapper(self) -> str:
        return str(Path(sys.executable).parent / "batchspawner-singleuser")

    @default("cmd")
    def _cmd_default(self) -> list[str]:
        return [str(Path(sys.executable).parent / "jupyterhub-singleuser")]

    @default("exec_prefix")
    def _exec_prefix_default(self) -> str:
        return "/usr/sbin/runuser -u {username} --" if os.geteuid() == 0 else ""

    @default("env_keep")
    def _env_keep_default(self) -> list[str]:
        return [*Spawner.class_traits()["env_keep"].default(), "SLURM_CONF"]

    def apply_resources(self, allocation: Allocation, request: SessionRequest) -> None:
        if allocation.scheduler != "slurm":
            raise SpawnRefused(
                400,
                f"Session refused: allocation {allocation.id!r} runs on {allocation.scheduler!r}, "
                "but this hub starts sessions as SLURM jobs; choose a SLURM allocation.",
            )
        self.req_account = allocation.account or ""
        self.req_comment = allocation_comment(allocation.id)
        self.req_partition = allocation.queue or ""
        self.req_runtime = request.walltime
        self.req_nprocs = str(request.cores)
        self.req_memory = request.slurm_memory

    async def submit_batch_script(self) -> str:
        try:
            return await super().submit_batch_script()
        except RuntimeError as exc:
            # batchspawner raises the scheduler's stderr; show it, not a generic "error"
            raise SpawnRefused(500, f"SLURM refused the session job: {exc}") from None

    async def _get_batch_script(self, **subvars: Any) -> str:
        # batchspawner merges raw user_options into the template variables; use only ours
        clean = self.get_req_subvars()
        clean["cmd"] = subvars["cmd"]
        return await super()._get_batch_script(**clean)

    # -- state: unknown is not gone -------------------------------------------------------

    async def query_job_status(self) -> JobStatus:
        if not self.job_id:
            self.job_status = ""
            return JobStatus.NOTFOUND
        report = await queue.job_report(self.job_id, timeout=self.command_timeout)
        if report.phase == queue.UNKNOWN:
            self.log.warning("squeue for job %s unreadable: %s", self.job_id, report.error)
            return JobStatus.UNKNOWN
        self.job_status = f"{report.state} {report.host}".strip()
        return {
            queue.PENDING: JobStatus.PENDING,
            queue.RUNNING: JobStatus.RUNNING,
        }.get(report.phase, JobStatus.NOTFOUND)

    async def poll(self) -> int | None:
        await self.cancel_orphans()
        job_id = self.job_id
        status = await super().poll()
        if status is not None and job_id:  # ended without stop() (walltime, scancel, node failure)
            await self.cancel_session_workers(job_id, self.user.name)
        return status

    async def start(self) -> Any:
        await self.cancel_orphans()
        self.homedir_ready()
        try:
            return await self._start_job()
        except asyncio.CancelledError:
            # the user cancelled, or start_timeout: the job must not outlive the spawn
            await self._cancel_quietly()
            raise

    async def _start_job(self) -> Any:
        if self.allocation is None:
            self.apply_allocation(self.user_options or {})
        # forget the previous session's address: the new job reports its own port
        self.ip = self.traits()["ip"].default_value
        self.port = self.traits()["port"].default_value
        if self.server:
            self.server.port = self.port
        await self.submit_batch_script()
        if not self.job_id:
            raise SpawnRefused(500, "sbatch returned no job id; the session was not queued.")
        unknown_since: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            status = await self.query_job_status()
            if status == JobStatus.RUNNING:
                break
            if status == JobStatus.UNKNOWN:
                unknown_since = unknown_since or loop.time()
                if loop.time() - unknown_since > self.unknown_grace:
                    raise SpawnRefused(
                        503, f"The scheduler has not answered for {self.unknown_grace:g} s."
                    )
            elif status == JobStatus.PENDING:
                unknown_since = None
            else:
                raise SpawnRefused(500, await self._ended_message())
            await asyncio.sleep(self.startup_poll_interval)
        self.ip = await queue.node_address(self.state_gethost())
        while self.port == 0:
            status = await self.query_job_status()
            if status == JobStatus.NOTFOUND:
                raise SpawnRefused(500, await self._ended_message())
            await asyncio.sleep(self.startup_poll_interval)
        self.log.info(
            "Session job %s of %s at %s:%s", self.job_id, self.user.name, self.ip, self.port
        )
        return self.ip, self.port

    async def _ended_message(self) -> str:
        job_id = self.job_id
        reason = await queue.job_end_reason(job_id)
        log_tail = self._log_tail(job_id)
        self.clear_state()
        text = f"The session job {job_id} ended before JupyterLab started"
        text += f" ({reason})." if reason else "."
        if log_tail:
            text += f" Last lines of its log: {log_tail}"
        return text

    def _log_tail(self, job_id: str, lines: int = 5) -> str:
        path = Path(self.req_homedir) / f".genesis-session-{job_id}.log"
        try:
            tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return ""
        return " | ".join(tail)

    def homedir_ready(self) -> None:
        """Fail early with a clear message if the user has no home directory for the job, or is
        root or a system account (a hub user named ``root`` must not get a root session)."""
        try:
            uid = pwd.getpwnam(self.user.name).pw_uid
        except KeyError:
            uid = None
        if uid is not None and is_system_account(uid):
            uids = people_uids()
            raise SpawnRefused(
                403,
                f"User {self.user.name!r} is a system account (uid {uid}); sessions run only as "
                f"people's accounts (uids {uids.start} to {uids.stop - 1}).",
            )
        if not self.req_homedir or not Path(self.req_homedir).is_dir():
            raise SpawnRefused(
                500,
                f"User {self.user.name!r} has no home directory ({self.req_homedir!r}) on this "
                "system; SLURM sessions need a Unix account.",
            )

    # -- stop: never forget a running job -------------------------------------------------

    async def stop(self, now: bool = False) -> None:
        if not self.job_id:
            return
        job_id = self.job_id
        for attempt in range(self.cancel_attempts):
            code, _, err = await queue.run_argv(
                self._as_user(["scancel", job_id]), self.command_timeout
            )
            if code == 0:
                break
            if await self.query_job_status() == JobStatus.NOTFOUND:  # it had ended already
                await self.cancel_session_workers(job_id, self.user.name)
                return
            self.log.warning("scancel %s failed (try %d): %s", job_id, attempt + 1, err.strip())
            await asyncio.sleep(min(2**attempt, 5))
        else:
            self.remember_orphan(job_id)
            self._start_reaper()
            return
        if now:
            return
        for _ in range(20):
            status = await self.query_job_status()
            if status == JobStatus.NOTFOUND:
                await self.cancel_session_workers(job_id, self.user.name)
                return
            await asyncio.sleep(0.5)
        self.remember_orphan(job_id)

    async def cancel_session_workers(self, session_job: str, user: str | None = None) -> list[str]:
        """Cancel the worker jobs the ended session ``session_job`` (of ``user``; not known: any
        user's) left behind; returns their ids.

        The session's own closers (its kernels' SIGTERM handler, the clusters' watchdogs) race
        SLURM's SIGKILL when the job ends; this is the backstop. Their charges come from SLURM's
        accounting (the genesis service's sync), as for every ended job.
        """
        jobs = await queue.queued_jobs(user, self.command_timeout)
        if jobs is None:
            self.log.warning("squeue unreadable: worker jobs of session %s not swept", session_job)
            return []
        owners: dict[str, list[str]] = {}
        for job_id, name, user in jobs:
            if session_of(name) == session_job:
                owners.setdefault(user, []).append(job_id)
        ids = [job_id for owned in owners.values() for job_id in owned]
        for user, owned in owners.items():
            self.log.info("Cancelling %s's worker jobs %s left by session %s", user, owned,
                          session_job)  # fmt: skip
            prefix = self.exec_prefix.format(username=user).split()
            await queue.run_argv([*prefix, "scancel", *owned], self.command_timeout)
        return ids

    async def _cancel_quietly(self) -> None:
        if self.job_id:
            await asyncio.shield(self.stop(now=True))

    def _as_user(self, argv: list[str]) -> list[str]:
        prefix = self.exec_prefix.format(username=self.user.name).split()
        return [*prefix, *argv]

    def _orphans(self) -> list[str]:
        if not self.orphan_file:
            return []
        try:
            return list(json.loads(Path(self.orphan_file).read_text()))
        except (OSError, ValueError):
            return []

    def _write_orphans(self, ids: list[str]) -> None:
        path = Path(self.orphan_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(sorted(set(ids))))

    def remember_orphan(self, job_id: str) -> None:
        """Record a job whose cancel could not be confirmed; the next poll cancels it."""
        self.log.error("Session job %s may still run; it will be cancelled later", job_id)
        if self.orphan_file:
            self._write_orphans([*self._orphans(), job_id])

    def _start_reaper(self) -> None:
        task = getattr(self, "_reaper", None)
        if task is None or task.done():
            self._reaper = asyncio.ensure_future(self._reap_until_done())

    async def _reap_until_done(self) -> None:
        """Retry remembered cancels while the hub runs (a hub restart resumes via poll/start)."""
        while self._orphans():
            await asyncio.sleep(self.reap_interval)
            await self.cancel_orphans()

    async def cancel_orphans(self) -> None:
        """Cancel remembered jobs; keep those the scheduler does not confirm ended."""
        ids = self._orphans()
        if not ids:
            return
        keep = []
        for job_id in ids:
            await queue.run_argv(["scancel", job_id], self.command_timeout)
            report = await queue.job_report(job_id, timeout=self.command_timeout)
            if report.phase in (queue.RUNNING, queue.PENDING, queue.UNKNOWN):
                keep.append(job_id)
            else:
                await self.cancel_session_workers(job_id)
        self._write_orphans(keep)

    # -- honest queue feedback ------------------------------------------------------------

    async def progress(self) -> Any:
        percent = 10
        while True:
            if not self.job_id:
                yield {"progress": 5, "message": "Submitting the session job to SLURM..."}
            else:
                report = await queue.job_report(
                    self.job_id, detail=True, timeout=self.command_timeout
                )
                if report.phase == queue.RUNNING:
                    yield {"progress": 80, "message": f"Job {self.job_id}: {report.describe()}"}
                    return
                percent = min(percent + 2, 60)
                yield {"progress": percent, "message": f"Job {self.job_id}: {report.describe()}"}
                if report.phase == queue.GONE:
                    return
            await asyncio.sleep(self.progress_interval)
