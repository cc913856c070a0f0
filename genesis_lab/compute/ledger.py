"""The site's usage ledger: core-hours per allocation and user, one JSON line per record.

One ledger per site, at ``<state>/service/ledger/usage.jsonl``: the genesis service's folder, so
no session account can write (or read) it. The service appends what sessions report about their
own dask workers (``POST api/usage``); the hub (root) appends the sessions it started and
stopped; schedulers and admins on the host append directly. Inside a hub session
:func:`charge`, :func:`used_core_hours` and :func:`usage_report` go through the service.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genesis_lab.errors import AllocationError, ComputeError

if TYPE_CHECKING:
    from genesis_lab.compute.allocations import Allocation
    from genesis_lab.compute.running import RunningUsage
    from genesis_lab.settings import Settings

__all__ = [
    "KINDS",
    "SOURCES",
    "Ledger",
    "UsageRecord",
    "charge",
    "get_ledger",
    "local_usage_report",
    "require_budget",
    "running_core_hours",
    "site_ledger_path",
    "usage_report",
    "used_core_hours",
]

Kind = Literal["session", "cluster", "pipeline", "job"]
Source = Literal["sacct", "worker-lifetime", "job-lifetime", "session-lifetime"]
KINDS: tuple[str, ...] = ("session", "cluster", "pipeline", "job")
SOURCES: tuple[str, ...] = ("sacct", "worker-lifetime", "job-lifetime", "session-lifetime")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _iso(t: float | str) -> str:
    if isinstance(t, str):
        return t
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class UsageRecord:
    """One charge: ``cores`` used from ``start`` to ``end`` by a job, session or pipeline."""

    allocation: str
    user: str
    kind: str
    ref: str
    cores: int
    start: str
    end: str
    core_hours: float
    source: str
    time: str = field(default_factory=_now)

    @classmethod
    def from_times(
        cls,
        *,
        allocation: str,
        user: str,
        kind: Kind,
        ref: str,
        cores: int,
        start: float | str,
        end: float | str,
        source: Source,
    ) -> UsageRecord:
        """A record whose core-hours are ``cores * (end - start)`` (epoch seconds or ISO times).

        >>> UsageRecord.from_times(allocation="a", user="u", kind="cluster", ref="1",
        ...     cores=2, start=0, end=1800, source="worker-lifetime").core_hours
        1.0
        """
        t0, t1 = _epoch(start, "start"), _epoch(end, "end")
        if t1 < t0:
            raise ComputeError(f"Usage record {ref!r} ends before it starts.")
        return cls(
            allocation=allocation,
            user=user,
            kind=kind,
            ref=str(ref),
            cores=int(cores),
            start=_iso(t0),
            end=_iso(t1),
            core_hours=round(int(cores) * (t1 - t0) / 3600.0, 6),
            source=source,
        )


def _epoch(t: float | str, name: str) -> float:
    if isinstance(t, int | float):
        return float(t)
    try:
        parsed = dt.datetime.fromisoformat(str(t))
    except ValueError:
        raise ComputeError(f"{name}={t!r} is not a time: give epoch seconds or ISO 8601.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


class _RefIndex:
    """Where each job's records sit in one ledger file (ref -> line offsets), read once and then
    only the lines appended since, so a charge does not re-read the whole ledger."""

    def __init__(self) -> None:
        self.inode = -1
        self.scanned = 0
        self.offsets: dict[str, list[int]] = {}

    def update(self, fd: int, size: int) -> None:
        inode = os.fstat(fd).st_ino
        if inode != self.inode or size < self.scanned:  # replaced or cut: start again
            self.inode, self.scanned, self.offsets = inode, 0, {}
        if size <= self.scanned:
            return
        data = os.pread(fd, size - self.scanned, self.scanned)
        at = self.scanned
        for line in data.split(b"\n")[:-1]:
            try:
                ref = json.loads(line).get("ref")
            except (ValueError, AttributeError):
                ref = None
            if isinstance(ref, str):
                self.offsets.setdefault(ref, []).append(at)
            at += len(line) + 1
        self.scanned = at

    def earlier(self, fd: int, rec: UsageRecord, once: bool) -> UsageRecord | None:
        """The ledger's record that makes ``rec`` a second charge of the same job, if any."""
        same = ("ref", "source", "cores", "start", "end")
        for at in self.offsets.get(rec.ref, ()):
            line = os.pread(fd, 1 << 16, at).split(b"\n", 1)[0]
            try:
                old = UsageRecord(**json.loads(line))
            except (ValueError, TypeError):
                continue
            if old.source == "sacct" or (once and all(
                    getattr(old, k) == getattr(rec, k) for k in same)):  # fmt: skip
                return old
        return None


_INDEXES: dict[Path, _RefIndex] = {}


def _give_to_parent_owner(path: Path) -> None:
    """As root, hand a file or folder we created to the owner of its folder (the service)."""
    if os.geteuid() != 0:
        return
    st = path.parent.stat()
    os.chown(path, st.st_uid, st.st_gid)


class Ledger:
    """The usage ledger at ``path`` (JSON lines, append-only).

    Each append holds an exclusive ``flock``, cuts a line a crash left half-written, writes one
    whole line and fsyncs: a reader sees every record whole or not at all.

    >>> import tempfile, pathlib
    >>> led = Ledger(pathlib.Path(tempfile.mkdtemp()) / "usage.jsonl")
    >>> _ = led.record(UsageRecord.from_times(allocation="a", user="u", kind="cluster",
    ...     ref="7", cores=4, start=0, end=900, source="worker-lifetime"))
    >>> led.used_core_hours("a")
    1.0
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def folder(self) -> Path:
        """The ledger's folder, made (0700, the service's) if missing."""
        folder = self.path.parent
        if folder.is_dir():
            return folder
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for p in reversed(missing):
            _give_to_parent_owner(p)
        return folder

    def record(self, rec: UsageRecord, *, once: bool = False) -> UsageRecord:
        """Append ``rec`` durably (exclusive lock, torn tail cut, one write, fsync) and return it;
        a job charged from accounting (``source: sacct``) is not charged again: its record is
        returned instead. With ``once``, neither is a record equal to one of the ledger's
        (same ref, source, cores, start and end: a repeated report)."""
        line = (json.dumps(asdict(rec), sort_keys=True) + "\n").encode()
        try:
            self.folder()
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except PermissionError:
            raise ComputeError(
                f"This account may not write the site's usage ledger {self.path} (the genesis "
                "service's): charge through the service (inside a hub session, or with "
                "GENESIS_SERVICE_URL and a hub token in JUPYTERHUB_API_TOKEN), or as root."
            ) from None
        try:
            if created:
                _give_to_parent_owner(self.path)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    tail = os.pread(fd, min(size, 1 << 20), max(0, size - (1 << 20)))
                    os.ftruncate(fd, size - (len(tail) - tail.rfind(b"\n") - 1))
                    size = os.fstat(fd).st_size
                index = _INDEXES.setdefault(self.path.resolve(), _RefIndex())
                index.update(fd, size)
                earlier = index.earlier(fd, rec, once)
                if earlier is not None:
                    return earlier
                os.write(fd, line)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return rec

    def records(
        self, allocation: str | None = None, user: str | None = None
    ) -> Iterator[UsageRecord]:
        """Records, oldest first, optionally only of one allocation and/or user.

        A last line without its newline (an append cut short) is not a record yet.
        """
        try:
            with self.path.open("rb") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH)
                data = f.read()
        except FileNotFoundError:
            return
        except PermissionError:
            raise ComputeError(
                f"The site's usage ledger {self.path} is the genesis service's: read it as root "
                "or the service account, or ask the service (inside a hub session, or with "
                "GENESIS_SERVICE_URL and a hub token in JUPYTERHUB_API_TOKEN)."
            ) from None
        lines = data.split(b"\n")[:-1]  # the part after the last newline is not complete
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = UsageRecord(**json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ComputeError(
                    f"The usage ledger {self.path} has an unreadable line {n}: {exc}"
                ) from None
            if allocation is not None and rec.allocation != allocation:
                continue
            if user is not None and rec.user != user:
                continue
            yield rec

    def used_core_hours(self, allocation: str, user: str | None = None) -> float:
        """Core-hours charged to ``allocation`` (by ``user`` if given)."""
        return round(float(sum(r.core_hours for r in self.records(allocation, user))), 6)

    def summary(self) -> dict[tuple[str, str], float]:
        """Core-hours per (allocation, user)."""
        out: dict[tuple[str, str], float] = {}
        for r in self.records():
            key = (r.allocation, r.user)
            out[key] = round(out.get(key, 0.0) + r.core_hours, 6)
        return out


def _settings(settings: Settings | None) -> Settings:
    from genesis_lab.settings import get_settings

    return settings or get_settings()


def site_ledger_path(settings: Settings | None = None) -> Path:
    """``<state>/service/ledger/usage.jsonl``: the site's ledger, in the service's own folder.

    >>> from genesis_lab.settings import Settings
    >>> str(site_ledger_path(Settings(home="/srv/gl")))
    '/srv/gl/state/service/ledger/usage.jsonl'
    """
    state_dir = _settings(settings).state_dir
    assert state_dir is not None
    return state_dir / "service" / "ledger" / "usage.jsonl"


def get_ledger(settings: Settings | None = None) -> Ledger:
    """The site's ledger file (see :func:`site_ledger_path`).

    >>> get_ledger().path.name
    'usage.jsonl'
    """
    return Ledger(site_ledger_path(settings))


def _through_service(settings: Settings) -> bool:
    return bool(settings.service_url and settings.hub_api_token)


def _service_call(settings: Settings, method: str, path: str, body: Any = None) -> Any:
    from genesis_lab.access.hubapi import TokenRequestError, join_url, token_request

    assert settings.service_url and settings.hub_api_token
    try:
        return token_request(
            join_url(settings.service_url, path), settings.hub_api_token, method, body
        )
    except TokenRequestError as exc:
        if exc.status is None:
            raise ComputeError(
                f"The genesis service at {settings.service_url} cannot be reached for the usage "
                f"ledger ({exc.detail}). Check GENESIS_SERVICE_URL."
            ) from None
        error = AllocationError if exc.status in (403, 409) else ComputeError
        raise error(
            f"The genesis service refused {method} {path} ({exc.status}): {exc.detail}"
        ) from None


def charge(
    rec: UsageRecord, settings: Settings | None = None, *, ledger: Ledger | None = None
) -> UsageRecord:
    """Charge ``rec`` to the site ledger: through the service inside a hub session (which takes
    the user from the caller's token and refuses a foreign allocation), else appended directly
    to ``ledger`` (default: the site's, :func:`get_ledger`).

    >>> import tempfile
    >>> from genesis_lab.settings import Settings
    >>> s = Settings(home=tempfile.mkdtemp(), service_url=None)
    >>> r = charge(UsageRecord.from_times(allocation="a", user="u", kind="pipeline", ref="j1",
    ...     cores=1, start=0, end=3600, source="job-lifetime"), s)
    >>> used_core_hours("a", settings=s)
    1.0
    """
    settings = _settings(settings)
    if not _through_service(settings):
        return (ledger or get_ledger(settings)).record(rec)
    body = {k: v for k, v in asdict(rec).items() if k not in ("user", "core_hours", "time")}
    answer = _service_call(settings, "POST", "api/usage", body)
    return UsageRecord(**answer["record"])


def _allocation_rows(
    allocs: list[Allocation],
    records: list[UsageRecord],
    user: str,
    running: RunningUsage,
) -> list[dict]:
    totals: dict[str, float] = {}
    mine: dict[str, float] = {}
    for r in records:
        totals[r.allocation] = totals.get(r.allocation, 0.0) + r.core_hours
        if r.user == user:
            mine[r.allocation] = mine.get(r.allocation, 0.0) + r.core_hours
    rows = []
    for a in allocs:
        used = round(totals.get(a.id, 0.0), 6)
        budget = a.budget_core_hours
        rows.append({
            "id": a.id,
            "budget_core_hours": budget,
            "used_core_hours": used,
            "mine_core_hours": round(mine.get(a.id, 0.0), 6),
            "remaining_core_hours": None if budget is None else round(budget - used, 6),
            "running_core_hours": running.core_hours(a.id),
            "mine_running_core_hours": running.core_hours(a.id, user),
        })  # fmt: skip
    return rows


def _running(
    settings: Settings, shown: list[Allocation], records: list[UsageRecord]
) -> RunningUsage:
    from genesis_lab.compute.allocations import validate_allocations
    from genesis_lab.compute.running import running_usage

    site = validate_allocations(list(settings.allocations))
    site.update({a.id: a for a in shown if a.id not in site})
    charged = {(r.allocation, r.ref) for r in records}
    return running_usage(shown, list(site.values()), charged=charged)


def local_usage_report(
    settings: Settings | None = None, *, user: str | None = None, admin: bool = False
) -> dict[str, Any]:
    """What ``GET api/usage`` answers, read from the ledger file: ``user``'s records (an admin's:
    everyone's), core-hours per (allocation, user), and the balance of each allocation
    ``user`` is a member of (an admin: of all).

    Beside the charged figures, what running batch jobs have accrued and the ledger has not
    charged yet (:mod:`genesis_lab.compute.running`): per allocation ``running_core_hours`` and
    the user's own ``mine_running_core_hours`` (None: no figure, ``running_notes`` says why),
    and ``running_by_user`` (``user``'s rows; an admin's: everyone's), as of ``running_as_of``.
    Balances and refusals count charged usage only.

    >>> import tempfile
    >>> from genesis_lab.settings import Settings
    >>> local_usage_report(Settings(home=tempfile.mkdtemp()), user="u")["records"]
    []
    """
    from genesis_lab.compute.allocations import validate_allocations

    settings = _settings(settings)
    user = user or settings.user
    every = list(get_ledger(settings).records())
    shown = [a for a in validate_allocations(list(settings.allocations)).values()
             if admin or a.is_member(user)]  # fmt: skip
    running = _running(settings, shown, every)
    records = [asdict(r) for r in every if admin or r.user == user]
    per_user: dict[tuple[str, str], float] = {}
    for r in records:
        key = (r["allocation"], r["user"])
        per_user[key] = round(per_user.get(key, 0.0) + r["core_hours"], 6)
    running_per_user: dict[tuple[str, str], float] = {}
    for c in running.charges:
        if c.allocation in running.covered and (admin or c.user == user):
            key = (c.allocation, c.user)
            running_per_user[key] = running_per_user.get(key, 0.0) + c.core_hours
    return {
        "user": user,
        "admin": admin,
        "records": records,
        "by_user": [
            {"allocation": a, "user": u, "core_hours": h} for (a, u), h in sorted(per_user.items())
        ],
        "allocations": _allocation_rows(shown, every, user, running),
        "running_as_of": _iso(running.as_of),
        "running_by_user": [
            {"allocation": a, "user": u, "core_hours": round(h, 6)}
            for (a, u), h in sorted(running_per_user.items())
        ],
        "running_notes": running.notes,
    }


def running_core_hours(
    allocations: list[Allocation], settings: Settings | None = None
) -> dict[str, float]:
    """Core-hours that the running jobs of each of ``allocations`` have accrued and the ledger
    has not charged yet, by allocation id (those without a figure are left out): read as
    :func:`usage_report` reads the site's usage. Shown beside the balance, never refused on.

    >>> from genesis_lab.compute.allocations import Allocation
    >>> running_core_hours([Allocation(id="laptop", scheduler="local")])
    {}
    """
    settings = _settings(settings)
    if _through_service(settings):
        rows = usage_report(settings)["allocations"]
        wanted = {a.id for a in allocations}
        return {r["id"]: float(r["running_core_hours"]) for r in rows
                if r["id"] in wanted and r.get("running_core_hours") is not None}  # fmt: skip
    running = _running(settings, list(allocations), list(get_ledger(settings).records()))
    return {a.id: h for a in allocations if (h := running.core_hours(a.id)) is not None}


def usage_report(settings: Settings | None = None, *, user: str | None = None) -> dict[str, Any]:
    """The caller's usage and balances: from the service inside a hub session (admins' tokens
    see everyone's; the user is the token's), else from the ledger file for ``user`` (default:
    the settings' user; root and the service account see everyone's).

    >>> sorted(usage_report())[:5]
    ['admin', 'allocations', 'by_user', 'records', 'running_as_of']
    """
    settings = _settings(settings)
    if _through_service(settings):
        return _service_call(settings, "GET", "api/usage")
    admin = os.geteuid() == 0 or _owns_ledger(settings)
    return local_usage_report(settings, user=user, admin=admin)


def _owns_ledger(settings: Settings) -> bool:
    folder = site_ledger_path(settings).parent
    try:
        return folder.stat().st_uid == os.geteuid()
    except OSError:
        return True


def used_core_hours(
    allocation_id: str, user: str | None = None, *, settings: Settings | None = None
) -> float:
    """Core-hours charged to an allocation so far (by one user if given), from the site ledger.

    >>> used_core_hours("no-such-allocation")
    0.0
    """
    settings = _settings(settings)
    if not _through_service(settings):
        return get_ledger(settings).used_core_hours(allocation_id, user)
    if user is not None and user != settings.user:
        raise ComputeError(f"Only {settings.user}'s own usage can be asked for, not {user!r}'s.")
    for row in usage_report(settings)["allocations"]:
        if row["id"] == allocation_id:
            return float(row["mine_core_hours" if user else "used_core_hours"])
    return 0.0


def require_budget(
    allocation: Allocation | str, user: str | None = None, *, settings: Settings | None = None
) -> None:
    """Raise :class:`AllocationError` naming the allocation, the core-hours used and the budget
    once the site ledger says the budget of ``allocation`` is spent. With ``user``, also refuse
    a non-member and a learner past a training cap (as the hub and ``cluster()`` do).

    For schedulers and pipelines before they start a run (the scheduler, as root, passes no user
    or the schedule's owner).

    >>> from genesis_lab.compute.allocations import Allocation
    >>> require_budget(Allocation(id="x", scheduler="local", members=["alice"]))
    >>> require_budget(Allocation(id="x", scheduler="local", budget_core_hours=0))
    Traceback (most recent call last):
    genesis_lab.errors.AllocationError: The budget of allocation 'x' is spent: used 0.00 of 0 ...
    """
    from genesis_lab.compute.allocations import check_allocation, get_allocation

    alloc = get_allocation(allocation) if isinstance(allocation, str) else allocation
    if alloc is None:
        raise AllocationError(f"allocation={allocation!r} is not an allocation of this site.")
    if user is not None:
        check_allocation(alloc, user)
        return
    if alloc.budget_core_hours is None:
        return
    used = used_core_hours(alloc.id, settings=settings)
    if used >= alloc.budget_core_hours:
        raise AllocationError(
            f"The budget of allocation {alloc.id!r} is spent: used {used:.2f} of "
            f"{alloc.budget_core_hours:g} core-hours. Ask for more time or choose "
            "another allocation."
        )
