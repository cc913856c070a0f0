"""The session request: the allocation and resource profile a user asks for, parsed and checked.

Pure functions used by the spawner mixin: an allow-list of fields, typed values, readable refusals.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from genesis_lab.compute.allocations import format_walltime, parse_memory, parse_walltime
from genesis_lab.errors import AllocationError, GenesisError

__all__ = [
    "FIELDS",
    "SessionRequest",
    "allocation_label",
    "balance_text",
    "form_options",
    "parse_request",
    "render_form",
]

#: The only user options a session request may carry.
FIELDS = ("allocation", "cores", "memory", "walltime")

_ALLOCATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

#: What the form's fields accept (HTML ``pattern``, anchored by the browser); the server parses
#: the same shapes with :func:`parse_memory` and :func:`parse_request`.
MEMORY_PATTERN = r"\s*\d+(\.\d+)?\s*([KkMmGgTt][Ii]?[Bb]?|[Bb])?\s*"
WALLTIME_PATTERN = r"\s*(\d{1,3}:[0-5]\d|(\d+-)?\d{1,3}:[0-5]\d:[0-5]\d)\s*"


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


OPTION_PREFIX = "opt-"
"""JupyterHub 6's prefix of user options in spawn forms and ``/hub/spawn`` queries."""


def form_options(formdata: dict[str, Any]) -> dict[str, Any]:
    """The user options in posted form data or a spawn query, as JupyterHub 6 reads them.

    Fields named ``opt-<name>`` are the options when there are any (then anything else, such as
    ``_xsrf`` or ``next``, is the hub's); otherwise the fields other than ``_xsrf`` are (forms
    of JupyterHub 5). An empty name after the prefix is refused.

    >>> form_options({"opt-allocation": ["local"], "_xsrf": ["t"], "next": ["/x"]})
    {'allocation': ['local']}
    >>> form_options({"allocation": ["local"], "_xsrf": ["t"]})
    {'allocation': ['local']}
    """
    prefixed = {k[len(OPTION_PREFIX) :]: v for k, v in formdata.items()
                if k.startswith(OPTION_PREFIX)}  # fmt: skip
    if "" in prefixed:
        raise AllocationError(
            f"Unknown session option {OPTION_PREFIX!r} (no name); allowed: {', '.join(FIELDS)}."
        )
    if prefixed:
        return prefixed
    return {k: v for k, v in formdata.items() if k != "_xsrf"}


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


def _hours(value: float) -> str:
    """Core-hours as a person reads them: ``1,234.5``, ``10``, ``0.33``."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def allocation_label(allocation: Any) -> str:
    """The allocation's line in the form's list: its id, then its description when it has one
    that says more than the id.

    >>> from genesis_lab.compute.allocations import Allocation
    >>> allocation_label(Allocation(id="local", scheduler="local"))
    'local'
    >>> allocation_label(Allocation(id="fes", scheduler="slurm", description="Fusion, 2026"))
    'fes — Fusion, 2026'
    """
    ident = str(allocation.id)
    description = " ".join(str(getattr(allocation, "description", "") or "").split())
    if not description or description.casefold() == ident.casefold():
        return ident
    return f"{ident} — {description}"


def balance_text(allocation: Any, used: float, running: float = 0.0) -> tuple[str, bool]:
    """What is left of the allocation's budget after ``used`` core-hours, and whether it is spent;
    ``running`` (core-hours that running jobs have accrued, not yet charged) is mentioned when
    there is some, and does not count towards spent (as for the hub's check).

    >>> from genesis_lab.compute.allocations import Allocation
    >>> balance_text(Allocation(id="a", scheduler="local", budget_core_hours=10), 1.5)
    ('8.5 of 10 core-hours left (1.5 used)', False)
    >>> balance_text(Allocation(id="a", scheduler="local"), 2)
    ('No budget set (2 core-hours used so far)', False)
    >>> balance_text(Allocation(id="a", scheduler="slurm", account="p", budget_core_hours=10),
    ...              1.5, 0.25)[0]
    '8.5 of 10 core-hours left (1.5 used; 0.25 more running, not yet charged)'
    """
    budget = getattr(allocation, "budget_core_hours", None)
    more = f"; {_hours(running)} more running, not yet charged" if running > 0 else ""
    if budget is None:
        return f"No budget set ({_hours(used)} core-hours used so far{more})", False
    left = max(float(budget) - used, 0.0)
    spent = used >= float(budget)
    text = f"{_hours(left)} of {_hours(float(budget))} core-hours left ({_hours(used)} used{more})"
    if spent:
        text = f"Budget spent: {text}. Sessions on it are refused; choose another allocation"
    return text, spent


def _site_usage(allocation_id: str) -> float:
    # looked up at each call: the hub's budget check reads the same function
    from genesis_lab.compute import ledger

    return ledger.used_core_hours(allocation_id)


def _site_running(allocations: list[Any]) -> dict[str, float]:
    from genesis_lab.compute import ledger

    return ledger.running_core_hours(allocations)


def _allocation_option(a: Any, selected: bool, spent: bool) -> str:
    esc = html.escape
    data = {
        "cores": _limit(a, "cores") or "1",
        "memory": _limit(a, "memory"),
        "memory-bytes": str(getattr(a, "memory_bytes", "") or ""),
        "walltime": _limit(a, "walltime"),
        "walltime-seconds": str(getattr(a, "walltime_seconds", "") or ""),
        "spent": "true" if spent else "false",
    }
    attrs = "".join(f' data-{k}="{esc(v)}"' for k, v in data.items())
    label = allocation_label(a) + (" (budget spent)" if spent else "")
    chosen = " selected" if selected else ""
    return f'<option value="{esc(str(a.id))}"{attrs}{chosen}>{esc(label)}</option>'


def _allocation_details(a: Any, selected: bool, balance: str, spent: bool) -> str:
    esc = html.escape
    runs_on = ", ".join(
        part
        for part in (
            esc(str(getattr(a, "scheduler", "") or "")),
            f"queue {esc(_limit(a, 'queue'))}" if _limit(a, "queue") else "",
            f"account {esc(_limit(a, 'account'))}" if _limit(a, "account") else "",
        )
        if part
    )
    limits = ", ".join(
        f"{label} {esc(_limit(a, attr))}"
        for label, attr in (
            ("cores ≤", "cores"),
            ("memory ≤", "memory"),
            ("walltime ≤", "walltime"),
        )
        if _limit(a, attr)
    )
    description = " ".join(str(getattr(a, "description", "") or "").split())
    about = f'<p class="mb-1">{esc(description)}</p>' if description else ""
    tone = "text-danger" if spent else "text-body"
    return f"""
    <div class="genesis-allocation-details card card-body bg-body-tertiary py-2 mt-2"
         data-allocation="{esc(str(a.id))}"{"" if selected else " hidden"}>
      {about}
      <dl class="genesis-facts row mb-0 small">
        <dt class="col-sm-2">Runs on</dt><dd class="col-sm-10 mb-1">{runs_on}</dd>
        <dt class="col-sm-2">Per job</dt><dd class="col-sm-10 mb-1">{limits}</dd>
        <dt class="col-sm-2">Balance</dt>
        <dd class="col-sm-10 mb-0 genesis-balance {tone}">{esc(balance)}</dd>
      </dl>
    </div>"""


def render_form(
    allocations: list[Any],
    defaults: dict[str, str],
    chosen: str = "",
    used: Callable[[str], float] | None = None,
    running: Callable[[list[Any]], Mapping[str, float]] | None = None,
) -> str:
    """The options form HTML: the user's allocations (with description, limits and remaining
    budget) and a resource profile, with HTML5 constraints the spawn page's script checks inline.

    ``used`` gives the core-hours charged to an allocation id (default: the site's usage ledger,
    as the hub's budget check reads it); ``running`` the core-hours running jobs have accrued
    and the ledger has not charged yet, by allocation id (default: from the batch scheduler's
    queue), shown in the balance. The server checks every value again on submit.

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
    usage = used or _site_usage
    try:
        accrued = (running or _site_running)(allocations)
    except GenesisError:
        accrued = {}  # shown only: a balance without it is still right
    balances = []
    for a in allocations:
        try:
            balances.append(balance_text(a, float(usage(str(a.id))), accrued.get(str(a.id), 0.0)))
        except GenesisError as exc:
            balances.append((f"Balance unavailable: {exc}", False))
    # the one asked for before, else the first whose budget is not spent
    index = next((i for i, a in enumerate(allocations) if chosen and a.id == chosen), None)
    if index is None:
        index = next((i for i, (_, spent) in enumerate(balances) if not spent), 0)
    options, details = [], []
    for i, (a, (balance, spent)) in enumerate(zip(allocations, balances, strict=True)):
        options.append(_allocation_option(a, i == index, spent))
        details.append(_allocation_details(a, i == index, balance, spent))
    first = allocations[index]
    max_cores = _limit(first, "cores") or "1"
    return f"""
<div id="genesis-session-form">
<div class="mb-3">
  <label for="genesis-allocation" class="form-label">Allocation</label>
  <select class="form-select" id="genesis-allocation" name="allocation" required
          aria-describedby="genesis-allocation-help genesis-allocation-feedback">
    {"".join(options)}
  </select>
  <div id="genesis-allocation-feedback" class="invalid-feedback"></div>
  <div id="genesis-allocation-help" class="form-text">The allocation this session, and the dask
    clusters you start from it, run under and are charged to.</div>
  {"".join(details)}
</div>
<div class="mb-3">
  <label for="genesis-cores" class="form-label">Cores</label>
  <input class="form-control" id="genesis-cores" name="cores" type="number" required
         min="1" max="{esc(max_cores)}" step="1" inputmode="numeric"
         aria-describedby="genesis-cores-help genesis-cores-feedback"
         value="{esc(defaults.get("cores", "1"))}">
  <div id="genesis-cores-feedback" class="invalid-feedback"></div>
  <div id="genesis-cores-help" class="form-text">A whole number from 1 to
    <span data-genesis-limit="cores">{esc(max_cores)}</span>, the most this allocation gives
    one job.</div>
</div>
<div class="mb-3">
  <label for="genesis-memory" class="form-label">Memory</label>
  <input class="form-control" id="genesis-memory" name="memory" type="text" required
         pattern="{MEMORY_PATTERN}" spellcheck="false" autocomplete="off"
         aria-describedby="genesis-memory-help genesis-memory-feedback"
         value="{esc(defaults.get("memory", "2GB"))}">
  <div id="genesis-memory-feedback" class="invalid-feedback"></div>
  <div id="genesis-memory-help" class="form-text">A size such as 2GB or 512MiB, at most
    <span data-genesis-limit="memory">{esc(_limit(first, "memory"))}</span>.</div>
</div>
<div class="mb-3">
  <label for="genesis-walltime" class="form-label">Walltime</label>
  <input class="form-control" id="genesis-walltime" name="walltime" type="text" required
         pattern="{WALLTIME_PATTERN}" spellcheck="false" autocomplete="off"
         aria-describedby="genesis-walltime-help genesis-walltime-feedback"
         value="{esc(defaults.get("walltime", "01:00:00"))}">
  <div id="genesis-walltime-feedback" class="invalid-feedback"></div>
  <div id="genesis-walltime-help" class="form-text">How long the session may run, as HH:MM:SS
    (or D-HH:MM:SS), at most
    <span data-genesis-limit="walltime">{esc(_limit(first, "walltime"))}</span>.</div>
</div>
</div>
"""
