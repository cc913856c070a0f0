"""The session request: the allocation and resource profile a user asks for, parsed and checked.

Pure functions used by the spawner mixin: an allow-list of fields, typed values, readable refusals.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from genesis_lab.compute.allocations import format_walltime, parse_memory, parse_walltime
from genesis_lab.errors import AllocationError

__all__ = [
    "FIELDS",
    "SessionRequest",
    "parse_request",
    "render_form",
]

#: The only user options a session request may carry.
FIELDS = ("allocation", "cores", "memory", "walltime")

_ALLOCATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SessionRequest:
    """What a user asked for: allocation id, cores, memory (``4GB``) and walltime (``HH:MM:SS``).

    >>> r = parse_request({"allocation": "local", "cores": "2", "memory": "4GB", "walltime": "1:30:00"})
    >>> r.cores, r.memory, r.walltime, r.walltime_seconds
    (2, '4GB', '01:30:00', 5400)
    """

    allocation: str
    cores: int
    memory: str
    walltime: str

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)

    @property
    def walltime_seconds(self) -> int:
        return parse_walltime(self.walltime)

    @property
    def slurm_memory(self) -> str:
        """Memory as ``sbatch --mem`` reads it (MiB, rounded up)."""
        return f"{-(-self.memory_bytes // 2**20)}M"

    def as_options(self) -> dict[str, str]:
        """The request as the JSON-safe ``user_options`` the hub stores."""
        return {
            "allocation": self.allocation,
            "cores": str(self.cores),
            "memory": self.memory,
            "walltime": self.walltime,
        }


def _single(value: Any) -> Any:
    # form posts arrive as lists of strings; the REST API may send plain values
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise AllocationError(f"expected one value, got {len(value)}.")
        return value[0]
    return value


def parse_request(
    options: dict[str, Any], defaults: dict[str, str] | None = None
) -> SessionRequest:
    """Parse user options (form lists or JSON values) into a :class:`SessionRequest`.

    Unknown fields are refused, so nothing a client posts reaches the spawner unchecked.

    >>> parse_request({"allocation": ["local"]}, {"cores": "1", "memory": "2GB", "walltime": "1:00"})
    SessionRequest(allocation='local', cores=1, memory='2GB', walltime='01:00:00')
    """
    if not isinstance(options, dict):
        raise AllocationError("Session options must be a mapping of field to value.")
    unknown = sorted(set(options) - set(FIELDS))
    if unknown:
        raise AllocationError(
            f"Unknown session option(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(FIELDS)}."
        )
    merged = {**(defaults or {}), **{k: _single(v) for k, v in options.items()}}
    allocation = str(merged.get("allocation") or "").strip()
    if not allocation:
        raise AllocationError("Choose an allocation: the field 'allocation' is empty.")
    if not _ALLOCATION_ID.match(allocation):
        raise AllocationError(f"allocation {allocation!r} is not a valid allocation id.")
    raw_cores = str(merged.get("cores", "1")).strip()
    if not raw_cores.isdigit() or int(raw_cores) < 1:
        raise AllocationError(f"cores must be a whole number of at least 1, not {raw_cores!r}.")
    memory = str(merged.get("memory", "2GB")).strip()
    try:
        if parse_memory(memory) <= 0:
            raise ValueError(f"memory {memory!r} must be more than 0 bytes")
    except ValueError as exc:
        raise AllocationError(f"memory: {exc} (for example '4GB' or '512MiB').") from None
    raw_walltime = str(merged.get("walltime", "01:00:00")).strip()
    if re.fullmatch(r"\d{1,3}:[0-5]\d", raw_walltime):
        raw_walltime += ":00"
    try:
        seconds = parse_walltime(raw_walltime)
    except ValueError as exc:
        raise AllocationError(f"walltime: {exc}.") from None
    if seconds <= 0:
        raise AllocationError("walltime must be longer than 00:00:00.")
    return SessionRequest(
        allocation=allocation,
        cores=int(raw_cores),
        memory=memory,
        walltime=format_walltime(seconds),
    )


def _limit(allocation: Any, name: str) -> str:
    value = getattr(allocation, name, None)
    return "" if value in (None, "") else str(value)


def render_form(allocations: list[Any], defaults: dict[str, str], chosen: str = "") -> str:
    """The options form HTML: the user's allocations and a resource profile.

    >>> "No allocation" in render_form([], {"cores": "1", "memory": "2GB", "walltime": "01:00:00"})
    True
    """
    esc = html.escape
    if not allocations:
        return (
            '<div class="alert alert-warning" id="genesis-no-allocation">'
            "No allocation lists you as a member. Ask your PI or the site admin to add you "
            "to one in the site file.</div>"
        )
    rows = []
    for i, a in enumerate(allocations):
        ident = esc(str(a.id))
        selected = " selected" if (chosen and a.id == chosen) or (not chosen and i == 0) else ""
        limits = ", ".join(
            f"{label} {_limit(a, attr)}"
            for label, attr in (
                ("cores ≤", "cores"),
                ("memory ≤", "memory"),
                ("walltime ≤", "walltime"),
                ("queue", "queue"),
            )
            if _limit(a, attr)
        )
        text = f"{ident} — {esc(str(getattr(a, 'scheduler', '')))}"
        if limits:
            text += f" ({esc(limits)})"
        rows.append(f'<option value="{ident}"{selected}>{text}</option>')
    return f"""
<div class="form-group">
  <label for="genesis-allocation">Allocation charged for this session</label>
  <select class="form-control" id="genesis-allocation" name="allocation">
    {"".join(rows)}
  </select>
</div>
<div class="form-group">
  <label for="genesis-cores">Cores</label>
  <input class="form-control" id="genesis-cores" name="cores" type="number" min="1"
         value="{esc(defaults.get("cores", "1"))}">
</div>
<div class="form-group">
  <label for="genesis-memory">Memory (e.g. 2GB, 512MiB)</label>
  <input class="form-control" id="genesis-memory" name="memory"
         value="{esc(defaults.get("memory", "2GB"))}">
</div>
<div class="form-group">
  <label for="genesis-walltime">Walltime (HH:MM:SS)</label>
  <input class="form-control" id="genesis-walltime" name="walltime"
         value="{esc(defaults.get("walltime", "01:00:00"))}">
</div>
"""
