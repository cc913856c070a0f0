"""``submit``: run a challenge as a SLURM batch job charged to an allocation.

The job runs ``genesis-lab challenge run`` with parameters already validated here; the script is
built from validated values only and shown by :func:`batch_script` before anything is submitted.
"""

from __future__ import annotations

import datetime as dt
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from genesis_lab.compute.jobnames import allocation_comment
from genesis_lab.errors import PipelineError
from genesis_lab.pipelines.challenge import get_challenge
from genesis_lab.settings import Settings, get_settings

__all__ = ["batch_script", "genesis_command", "job_end", "sbatch", "submit"]

ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
                   "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"})  # fmt: skip


def genesis_command() -> list[str]:
    """The ``genesis-lab`` executable of this installation."""
    local = Path(sys.executable).parent / "genesis-lab"
    found = str(local) if local.exists() else shutil.which("genesis-lab")
    if not found:
        raise PipelineError("The genesis-lab command is not installed next to this Python.")
    return [found]


def batch_script(
    command: Sequence[str],
    *,
    allocation: Any,
    job_name: str,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    charge: Sequence[str] = (),
) -> str:
    """A ``sbatch`` script running ``command`` under ``allocation`` (account, partition, time).

    With ``charge`` (a ``genesis-lab`` command), the job charges its own cores x elapsed time to
    the allocation's site ledger when ``command`` ends (``alloc charge``), and exits as it did.

    >>> from genesis_lab.compute.allocations import Allocation
    >>> a = Allocation(id="demo", account="p1", scheduler="slurm", queue="debug")
    >>> print(batch_script(["true"], allocation=a, job_name="j", log_file=Path("/tmp/j.out")))
    #!/bin/bash
    #SBATCH --job-name=j
    #SBATCH --output=/tmp/j.out
    #SBATCH --time=01:00:00
    #SBATCH --ntasks=1
    #SBATCH --account=p1
    #SBATCH --comment=genesis-allocation=demo
    #SBATCH --partition=debug
    export GENESIS_ALLOCATION=demo
    exec true
    <BLANKLINE>
    """
    if allocation.scheduler != "slurm":
        raise PipelineError(
            f"Allocation {allocation.id!r} uses the {allocation.scheduler} scheduler; batch "
            "submission of challenges supports SLURM allocations."
        )
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job_name}",
        f"#SBATCH --output={log_file}",
        f"#SBATCH --time={allocation.walltime}",
        "#SBATCH --ntasks=1",
    ]
    if allocation.account:
        lines.append(f"#SBATCH --account={allocation.account}")
        lines.append(f"#SBATCH --comment={allocation_comment(allocation.id)}")
    if allocation.queue:
        lines.append(f"#SBATCH --partition={allocation.queue}")
    lines += [f"#SBATCH {d}" for d in allocation.job_extra_directives]
    merged = {"GENESIS_ALLOCATION": allocation.id, **(env or {})}
    lines += [f"export {k}={shlex.quote(v)}" for k, v in merged.items()]
    if not charge:
        lines.append("exec " + shlex.join(command))
        return "\n".join(lines) + "\n"
    charge_cmd = shlex.join([*charge, "alloc", "charge", allocation.id, "--kind", "pipeline"])
    lines += [
        "start=$(date +%s)",
        shlex.join(command),
        "status=$?",
        f'{charge_cmd} --ref "$SLURM_JOB_ID" --cores "${{SLURM_CPUS_ON_NODE:-1}}" '
        '--start "$start" --end "$(date +%s)" || echo "genesis-lab: this job was not charged" >&2',
        'exit "$status"',
    ]
    return "\n".join(lines) + "\n"


def sbatch(script: str, *, as_user: Sequence[str] = ()) -> str:
    """Submit ``script`` (on sbatch's standard input) as ``as_user``; returns the SLURM job id."""
    from genesis_lab.compute.commands import run_command

    proc = run_command([*as_user, "sbatch", "--parsable"], timeout=60, input=script)
    return proc.stdout.strip().split(";")[0]


def job_end(job_id: str) -> dict[str, str] | None:
    """How SLURM job ``job_id`` ended (``state``, ``reason``, ``exit_code``), or ``None`` while it
    is pending or running. Asks ``sacct`` (accounting) first, then the job record (``scontrol``);
    a job neither knows any more is reported as state ``UNKNOWN``.

    >>> job_end("0")  # doctest: +SKIP
    {'state': 'UNKNOWN', 'reason': 'SLURM knows no job 0', 'exit_code': ''}
    """
    from genesis_lab.compute.commands import run_command

    acct = run_command(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,Reason,ExitCode"],
                       check=False, timeout=30) if shutil.which("sacct") else None  # fmt: skip
    if acct is not None and acct.returncode == 0 and acct.stdout.strip():
        state, reason, code = [*acct.stdout.strip().splitlines()[0].split("|"), "", ""][:3]
        state = state.split()[0] if state else ""
    else:
        show = run_command(["scontrol", "show", "job", "-o", job_id], check=False, timeout=30)
        if show.returncode != 0 or not show.stdout.strip():
            return {"state": "UNKNOWN", "reason": f"SLURM knows no job {job_id}",
                    "exit_code": ""}  # fmt: skip
        fields = dict(p.split("=", 1) for p in show.stdout.split() if "=" in p)
        state = fields.get("JobState", "")
        reason, code = fields.get("Reason", ""), fields.get("ExitCode", "")
    if state not in ENDED:
        return None
    return {"state": state, "reason": reason, "exit_code": code}


def submit(
    challenge_id: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    allocation: str | None = None,
    force: bool = False,
    settings: Settings | None = None,
    **params: Any,
) -> str:
    """Submit a run of ``challenge_id`` as a SLURM job under ``allocation``; returns the job id.

    >>> from genesis_lab.pipelines import submit
    >>> job_id = submit("reactor-period", allocation="nuclear-2026", rho_max=0.8)  # doctest: +SKIP
    """
    from genesis_lab.compute.allocations import check_allocation, get_allocation

    settings = settings or get_settings()
    ch = get_challenge(challenge_id, settings)
    values = ch.validate_parameters({**(parameters or {}), **params})
    alloc = get_allocation(allocation)
    if alloc is None:
        raise PipelineError("submit needs an allocation: pass --allocation ID.")
    check_allocation(alloc, settings.user)
    command = [*genesis_command(), "challenge", "run", ch.id, "--cluster", "--allocation", alloc.id]
    for name, value in values.items():
        command += ["-p", name, str(value).lower() if isinstance(value, bool) else str(value)]
    if force:
        command.append("--force")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    assert settings.state_dir is not None
    folder = settings.state_dir / "jobs" / ch.id  # the submitter's own; the run goes to the store
    folder.mkdir(parents=True, exist_ok=True)
    script = batch_script(
        command,
        allocation=alloc,
        job_name=f"genesis-{ch.id}",
        log_file=folder / f"{stamp}.out",
        env={"GENESIS_RESULTS_ROOT": str(settings.results_root), "GENESIS_USER": settings.user},
        charge=genesis_command(),
    )
    return sbatch(script)
