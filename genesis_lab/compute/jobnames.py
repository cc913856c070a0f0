"""Names and tags of the platform's batch jobs: which allocation and which session they are for.

A cluster's worker jobs are named for their allocation and, started inside a batch session (a
hub session running as a SLURM, PBS or LSF job), for that session job, so whoever ends the
session can find and cancel them. Session and pipeline jobs carry their allocation in the job's
comment, so accounting charges the right one of several allocations sharing a SLURM account.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from genesis_lab.compute.allocations import Allocation

__all__ = [
    "allocation_comment",
    "allocation_for",
    "allocation_of",
    "session_job_id",
    "session_of",
    "worker_job_name",
]

_COMMENT_KEY = "genesis-allocation="

# set by the batch system inside a job (PBS: "123.server", LSF: "123")
SESSION_JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID")

_SESSION_SUFFIX = re.compile(r"-s(\d+)$")
_WORKER_NAME = re.compile(r"^gl-(?P<allocation>.+)-[0-9a-f]{8}(?:-s\d+)?$")


def session_job_id(environ: Mapping[str, str] | None = None) -> str | None:
    """The id of the batch job this process runs in, if any.

    >>> session_job_id({"SLURM_JOB_ID": "4711"}), session_job_id({"PBS_JOBID": "12.pbs01"})
    ('4711', '12')
    >>> session_job_id({}) is None
    True
    """
    env = os.environ if environ is None else environ
    for name in SESSION_JOB_VARIABLES:
        value = env.get(name, "").split(".", 1)[0].strip()
        if value.isdigit():
            return value
    return None


def worker_job_name(allocation_id: str, session_job: str | None = None) -> str:
    """A fresh name shared by one cluster's jobs: ``gl-<allocation>-<random>[-s<session job>]``.

    >>> worker_job_name("fusion-hpc", "4711").startswith("gl-fusion-hpc-")
    True
    >>> session_of(worker_job_name("fusion-hpc", "4711"))
    '4711'
    """
    name = f"gl-{allocation_id}-{secrets.token_hex(4)}"
    return f"{name}-s{session_job}" if session_job else name


def session_of(job_name: str) -> str | None:
    """The session job a worker job's name says it belongs to (``None``: started elsewhere).

    >>> session_of("gl-fusion-hpc-0a1b2c3d-s4711"), session_of("gl-fusion-hpc-0a1b2c3d")
    ('4711', None)
    """
    if not job_name.startswith("gl-"):
        return None
    found = _SESSION_SUFFIX.search(job_name)
    return found.group(1) if found else None


def allocation_comment(allocation_id: str) -> str:
    """The job comment (``sbatch --comment``) that names the allocation a job is charged to.

    >>> allocation_comment("fusion-hpc")
    'genesis-allocation=fusion-hpc'
    """
    return f"{_COMMENT_KEY}{allocation_id}"


def allocation_of(job_name: str, comment: str = "") -> str | None:
    """The allocation a platform job was submitted for: from a cluster job's name, or a job's
    :func:`allocation_comment` (``None``: not said).

    >>> allocation_of(worker_job_name("fusion-hpc", "4711")), allocation_of("dask-worker")
    ('fusion-hpc', None)
    >>> allocation_of("genesis-session-ann", "genesis-allocation=fusion-hpc")
    'fusion-hpc'
    """
    found = _WORKER_NAME.match(job_name)
    if found:
        return found.group("allocation")
    for part in comment.split():
        if part.startswith(_COMMENT_KEY) and len(part) > len(_COMMENT_KEY):
            return part[len(_COMMENT_KEY) :]
    return None


class AccountedJob(Protocol):
    """What the batch system says of a job that decides the allocation it charges."""

    account: str
    partition: str
    name: str
    comment: str


def allocation_for(
    job: AccountedJob, user: str, allocations: Iterable[Allocation]
) -> Allocation | None:
    """The allocation of the job's account that ``user`` may charge: the one the job's name or
    comment names first, then one on the job's partition, then one naming the user outright
    before one open to everyone, then site order (``None``: none of the site's).

    >>> from types import SimpleNamespace as Job
    >>> from genesis_lab.compute.allocations import Allocation
    >>> site = [Allocation(id="open", scheduler="slurm", account="p1"),
    ...         Allocation(id="mine", scheduler="slurm", account="p1", members=["ann"])]
    >>> named = Job(account="p1", partition="debug", name="gl-open-0a1b2c3d", comment="")
    >>> other = Job(account="p1", partition="debug", name="x", comment="")
    >>> [getattr(allocation_for(j, u, site), "id", None)
    ...  for j, u in ((named, "ann"), (other, "ann"), (other, "bob"))]
    ['open', 'mine', 'open']
    """
    fits = [a for a in allocations if a.account == job.account and a.is_member(user)]
    named = allocation_of(job.name, job.comment)
    fits.sort(key=lambda a: (a.id != named, a.queue not in (None, job.partition),
                             user not in a.members))  # fmt: skip
    return fits[0] if fits else None
