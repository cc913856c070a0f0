"""Allocations of the site (account, scheduler, queue, limits, budget, members) and the checks on them.

The hub's spawner and :func:`genesis_lab.compute.cluster` both refuse through :func:`check_allocation`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesis_lab.errors import AllocationError, SettingsError

__all__ = [
    "SCHEDULERS",
    "AgentLimits",
    "Allocation",
    "TrainingCaps",
    "allocations_for",
    "check_allocation",
    "format_walltime",
    "get_allocation",
    "get_allocations",
    "parse_memory",
    "parse_walltime",
    "session_environment",
]

SCHEDULERS: tuple[str, ...] = ("slurm", "pbs", "lsf", "local")
"""Batch schedulers an allocation can name; ``local`` runs a LocalCluster on the session's host."""

_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d{1,3}):([0-5]\d):([0-5]\d)$")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_IUNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DIRECTIVE = re.compile(r"^[A-Za-z0-9=:,._/@+ -]+$")


def parse_walltime(text: str) -> int:
    """Seconds in a walltime ``[D-]HH:MM:SS``.

    >>> parse_walltime("01:30:00")
    5400
    >>> parse_walltime("1-00:00:00")
    86400
    """
    m = _WALLTIME.match(str(text).strip())
    if not m:
        raise ValueError(f"walltime {text!r} is not of the form HH:MM:SS or D-HH:MM:SS")
    days, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((days * 24 + h) * 60 + mi) * 60 + s


def format_walltime(seconds: int) -> str:
    """``HH:MM:SS`` for a number of seconds.

    >>> format_walltime(5400)
    '01:30:00'
    """
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def parse_memory(text: str | int) -> int:
    """Bytes in a memory size such as ``"4GB"``, ``"512MiB"`` or ``"2G"``.

    >>> parse_memory("4GB")
    4000000000
    >>> parse_memory("1GiB")
    1073741824
    """
    if isinstance(text, int):
        return text
    m = _MEMORY.match(str(text))
    if not m:
        raise ValueError(f"memory {text!r} is not a size such as '4GB' or '512MiB'")
    number, unit = float(m.group(1)), (m.group(2) or "").upper()
    if "I" in unit:
        return int(number * _IUNITS[unit[0]])
    return int(number * _UNITS[unit[:1] if unit != "B" else "B"])


class TrainingCaps(BaseModel):
    """Limits for a training (course) allocation: per-student caps the hub enforces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_sessions_per_user: int = Field(1, ge=1)
    max_core_hours_per_user: float | None = Field(None, gt=0)


class AgentLimits(BaseModel):
    """What AI agents (MCP clients) may spend of an allocation before a human approves.

    >>> AgentLimits().batch, AgentLimits(core_hours_per_call=2).core_hours_per_call
    (False, 2.0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    core_hours_per_call: float = Field(
        1.0, ge=0, description="Core-hours one agent call may use without approval."
    )
    core_hours_per_day: float = Field(
        8.0, ge=0, description="Core-hours agents may use per day (UTC) without approval."
    )
    batch: bool = Field(False, description="Whether agents may submit batch jobs without approval.")
    elicitation: bool = Field(
        True,
        description="Whether an MCP client may ask its user to approve a held call (elicitation). "
        "An agent that drives its own client can answer for itself: false leaves approval to the "
        "side panel and `genesis-lab agent approve` alone.",
    )


class Allocation(BaseModel):
    """One allocation of the site file: who may charge which account, where, and how much.

    >>> a = Allocation(id="demo", account="proj1", scheduler="slurm", queue="debug",
    ...                walltime="00:30:00", cores=2, memory="4GB", budget_core_hours=100,
    ...                members=["alice"])
    >>> a.walltime_seconds, a.is_member("alice"), a.is_member("bob")
    (1800, True, False)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Short name users pick, e.g. 'nuclear-2026'.")
    account: str | None = Field(None, description="Account/project the scheduler charges.")
    scheduler: Literal["slurm", "pbs", "lsf", "local"] = Field(
        "local", description="Batch scheduler of the allocation."
    )
    queue: str | None = Field(None, description="Queue or partition of the jobs.")
    walltime: str = Field("01:00:00", description="Longest job, HH:MM:SS or D-HH:MM:SS.")
    cores: int = Field(1, ge=1, le=4096, description="Cores per job (also the upper limit).")
    memory: str = Field("2GB", description="Memory per job (also the upper limit), e.g. '4GB'.")
    processes: int = Field(1, ge=1, description="Dask worker processes per job.")
    max_jobs: int = Field(4, ge=1, description="Most jobs one cluster may run at once.")
    budget_core_hours: float | None = Field(
        None, ge=0, description="Core-hours the allocation may use; none means unlimited."
    )
    members: tuple[str, ...] = Field(("*",), description="Usernames; '*' means everyone.")
    interface: str | None = Field(None, description="Network interface workers reach us on.")
    job_extra_directives: tuple[str, ...] = Field(
        (), description="Extra scheduler directives, e.g. '--qos=normal'."
    )
    description: str = ""
    training: TrainingCaps | None = None
    agents: AgentLimits = Field(
        default_factory=AgentLimits, description="Limits of AI agents (MCP) on this allocation."
    )

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be letters, digits, '.', '_' or '-', starting with a letter")
        return v

    @field_validator("account", "queue", "interface")
    @classmethod
    def _check_word(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError("must be letters, digits, '.', '_' or '-' (it goes into job scripts)")
        return v

    @field_validator("walltime")
    @classmethod
    def _check_walltime(cls, v: str) -> str:
        if parse_walltime(v) <= 0:
            raise ValueError("must be longer than 00:00:00")
        return v

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, v: str) -> str:
        if parse_memory(v) <= 0:
            raise ValueError("must be more than 0 bytes")
        return v

    @field_validator("members", mode="before")
    @classmethod
    def _members_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("job_extra_directives")
    @classmethod
    def _check_directives(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for d in v:
            if not _DIRECTIVE.match(d):
                raise ValueError(f"directive {d!r} holds characters not allowed in a job script")
        return v

    @property
    def walltime_seconds(self) -> int:
        return parse_walltime(self.walltime)

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)

    def is_member(self, user: str) -> bool:
        """Whether ``user`` may charge this allocation."""
        return "*" in self.members or user in self.members


def _explain(index: int, raw: Any, exc: ValidationError) -> str:
    name = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "allocation"
        msg = err["msg"]
        if err["type"] == "literal_error":
            msg = f"{msg} (allowed: {', '.join(SCHEDULERS)})"
        lines.append(f"  {field}: {msg}")
    return f"Allocation {name!r} in the site file is invalid:\n" + "\n".join(lines)


def validate_allocations(items: list[dict[str, Any]]) -> dict[str, Allocation]:
    """Allocations from the site file's ``allocations`` list, keyed by id.

    >>> validate_allocations([{"id": "laptop", "scheduler": "local"}])["laptop"].scheduler
    'local'
    """
    out: dict[str, Allocation] = {}
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise SettingsError(f"Allocation #{i + 1} in the site file must be a mapping.")
        try:
            alloc = Allocation.model_validate(raw)
        except ValidationError as exc:
            raise SettingsError(_explain(i, raw, exc)) from None
        if alloc.id in out:
            raise SettingsError(f"Allocation id {alloc.id!r} appears twice in the site file.")
        if alloc.scheduler != "local" and not alloc.account:
            raise SettingsError(
                f"Allocation {alloc.id!r} in the site file is invalid:\n"
                f"  account: required for scheduler {alloc.scheduler!r}"
            )
        out[alloc.id] = alloc
    return out


def get_allocations() -> dict[str, Allocation]:
    """Every allocation of the site, keyed by id (from ``get_settings().allocations``).

    >>> isinstance(get_allocations(), dict)
    True
    """
    from genesis_lab.settings import get_settings

    return validate_allocations(get_settings().allocations)


def get_allocation(allocation_id: str | None = None) -> Allocation | None:
    """The allocation ``allocation_id``, or the session's (``GENESIS_ALLOCATION``); None if unset.

    >>> get_allocation() is None or isinstance(get_allocation(), Allocation)
    True
    """
    from genesis_lab.settings import get_settings

    wanted = allocation_id or get_settings().allocation
    if not wanted:
        return None
    allocations = get_allocations()
    if wanted not in allocations:
        known = ", ".join(sorted(allocations)) or "none are defined in the site file"
        raise AllocationError(f"No allocation {wanted!r}. Allocations of this site: {known}.")
    return allocations[wanted]


def allocations_for(user: str) -> list[Allocation]:
    """The allocations ``user`` is a member of, in site-file order.

    >>> allocations_for("nobody-in-particular") == [
    ...     a for a in get_allocations().values() if "*" in a.members]
    True
    """
    return [a for a in get_allocations().values() if a.is_member(user)]


def check_allocation(
    allocation: Allocation,
    user: str,
    *,
    cores: int | None = None,
    memory: str | int | None = None,
    walltime: str | None = None,
) -> None:
    """Raise :class:`AllocationError` with a reason unless ``user`` may run this request.

    Refused: not a member; budget spent (from the usage ledger); cores, memory or walltime
    per job beyond the allocation's.

    >>> a = Allocation(id="x", scheduler="local", members=["alice"], cores=2)
    >>> check_allocation(a, "alice", cores=2)
    >>> check_allocation(a, "bob")
    Traceback (most recent call last):
    genesis_lab.errors.AllocationError: User 'bob' is not a member of allocation 'x' ...
    """
    if not allocation.is_member(user):
        raise AllocationError(
            f"User {user!r} is not a member of allocation {allocation.id!r} "
            f"(members: {', '.join(allocation.members)}). Ask its PI to add you, or choose "
            "another allocation."
        )
    if cores is not None and cores > allocation.cores:
        raise AllocationError(
            f"Request beyond the limits of allocation {allocation.id!r}: cores={cores}, "
            f"the most per job is {allocation.cores}."
        )
    if memory is not None and parse_memory(memory) > allocation.memory_bytes:
        raise AllocationError(
            f"Request beyond the limits of allocation {allocation.id!r}: memory={memory}, "
            f"the most per job is {allocation.memory}."
        )
    if walltime is not None and parse_walltime(walltime) > allocation.walltime_seconds:
        raise AllocationError(
            f"Request beyond the limits of allocation {allocation.id!r}: walltime={walltime}, "
            f"the longest job is {allocation.walltime}."
        )
    caps = allocation.training
    if caps is not None and caps.max_core_hours_per_user is not None:
        from genesis_lab.compute.ledger import used_core_hours

        mine = used_core_hours(allocation.id, user)
        if mine >= caps.max_core_hours_per_user:
            raise AllocationError(
                f"User {user!r} has spent their share of training allocation {allocation.id!r}: "
                f"used {mine:.2f} of {caps.max_core_hours_per_user:g} core-hours per student."
            )
    if allocation.budget_core_hours is not None:
        from genesis_lab.compute.ledger import used_core_hours

        used = used_core_hours(allocation.id)
        if used >= allocation.budget_core_hours:
            raise AllocationError(
                f"The budget of allocation {allocation.id!r} is spent: used {used:.2f} of "
                f"{allocation.budget_core_hours:g} core-hours. Ask for more time or choose "
                "another allocation."
            )


_ACCOUNT_KEY = {"slurm": "account", "pbs": "account", "lsf": "project"}


def session_environment(allocation: Allocation | None) -> dict[str, str]:
    """Environment variables that bind a session to ``allocation``.

    ``GENESIS_ALLOCATION`` plus dask config variables, so a plain ``SLURMCluster()`` in the
    session charges the allocation's account, queue and walltime with no arguments.

    >>> a = Allocation(id="x", account="p1", scheduler="slurm", queue="debug")
    >>> env = session_environment(a)
    >>> env["GENESIS_ALLOCATION"], env["DASK_JOBQUEUE__SLURM__ACCOUNT"]
    ('x', 'p1')
    """
    if allocation is None:
        return {}
    env = {"GENESIS_ALLOCATION": allocation.id}
    if allocation.scheduler == "local":
        return env
    prefix = f"DASK_JOBQUEUE__{allocation.scheduler.upper()}__"
    values: dict[str, Any] = {
        _ACCOUNT_KEY[allocation.scheduler]: allocation.account,
        "queue": allocation.queue,
        "walltime": allocation.walltime,
        "cores": allocation.cores,
        "memory": allocation.memory,
        "processes": allocation.processes,
        "interface": allocation.interface,
    }
    for key, value in values.items():
        if value is not None:
            env[prefix + key.upper()] = str(value)
    return env
