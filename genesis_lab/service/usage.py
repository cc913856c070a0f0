"""``GET/POST api/usage``: the site's usage ledger, kept by the service.

A session reports its own dask workers (``POST``): the user is always the caller's, the allocation
one the caller is a member of. A job is charged once (a repeat, or a job the accounting sync of
:mod:`genesis_lab.service.accounting_sync` already charged, is answered 200 with the record the
ledger holds); a claim of ``source: sacct`` is taken from the batch system's accounting, and
refused for a job accounting does not know, another user's job, or a job of another account. ``GET`` answers the caller's records and their allocations'
balances; an admin's token sees every record and allocation.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict
from typing import Any

from genesis_lab.access.unix import hub_user
from genesis_lab.compute.allocations import validate_allocations
from genesis_lab.compute.ledger import (
    KINDS,
    SOURCES,
    UsageRecord,
    get_ledger,
    local_usage_report,
)
from genesis_lab.errors import GenesisError
from genesis_lab.service.handlers import GenesisHandler, _json_body

__all__ = ["USAGE_HANDLERS", "UsageHandler"]

FIELDS: dict[str, type | tuple[type, ...]] = {
    "allocation": str,
    "kind": str,
    "ref": str,
    "cores": int,
    "start": (str, int, float),
    "end": (str, int, float),
    "source": str,
}
MAX_CORES = 100_000
FUTURE_SLACK_S = 300.0


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    parsed = dt.datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


class UsageHandler(GenesisHandler):
    """``GET /api/usage``: the caller's usage and balances (admins: all). ``POST``: one record
    about the caller's own work on an allocation they are a member of."""

    event_type = "usage.read"

    async def get(self) -> None:
        identity = self.identity
        assert identity is not None
        report = await self.state.run_in_thread(
            local_usage_report, self.state.settings, user=identity.name, admin=identity.admin
        )
        self.audit("success", f"{len(report['records'])} usage records")
        self.send_json(report)

    def _bad(self, message: str) -> None:
        self.fail(400, "bad-usage", message, "denied")

    async def post(self) -> None:
        self.event_type = "usage.record"
        body = _json_body(self)
        identity = self.identity
        assert identity is not None
        if "user" in body:
            self._bad("A usage record cannot name its user: it is always the caller "
                      f"({identity.name}). Remove 'user'.")  # fmt: skip
        wrong = sorted(
            k for k, t in FIELDS.items() if k not in body or not isinstance(body[k], t)
            or isinstance(body[k], bool)
        )  # fmt: skip
        extra = sorted(set(body) - set(FIELDS))
        if wrong or extra:
            self._bad(f"Give {', '.join(FIELDS)}; missing or of the wrong type: "
                      f"{', '.join(wrong) or '-'}; not allowed: {', '.join(extra) or '-'}.")  # fmt: skip
        if body["kind"] not in KINDS:
            self._bad(f"kind={body['kind']!r} is not allowed; allowed values: {', '.join(KINDS)}")
        if body["source"] not in SOURCES:
            self._bad(f"source={body['source']!r} is not allowed; allowed values: "
                      f"{', '.join(SOURCES)}")  # fmt: skip
        if not 1 <= body["cores"] <= MAX_CORES:
            self._bad(f"cores={body['cores']} is not allowed; give 1 to {MAX_CORES}.")
        if not 0 < len(body["ref"]) <= 200:
            self._bad("ref must be 1 to 200 characters (a job id or worker name).")
        try:
            start, end = _epoch(body["start"]), _epoch(body["end"])
        except (ValueError, TypeError):
            self._bad("start and end must be epoch seconds or ISO 8601 times.")
        if not 0 <= start <= end <= time.time() + FUTURE_SLACK_S:
            self._bad("start and end must satisfy 0 <= start <= end <= now.")
        allocs = validate_allocations(list(self.state.settings.allocations))
        alloc = allocs.get(body["allocation"])
        if alloc is None or not alloc.is_member(identity.name):
            # an unknown id gets the same answer as a foreign one: no hint of what exists
            self.fail(403, "forbidden", f"{identity.name} is not a member of allocation "
                      f"{body['allocation']!r} and cannot charge it.", "denied")  # fmt: skip
        cores = body["cores"]
        if body["source"] == "sacct":
            accounted = await self.state.run_in_thread(_accounted, alloc.scheduler, body["ref"])
            if accounted is None:
                others = ", ".join(s for s in SOURCES if s != "sacct")
                self._bad(f"source='sacct' is not allowed for {body['ref']!r}: the batch "
                          f"system's accounting does not know this job; allowed values: "
                          f"{others}.")  # fmt: skip
            owner = await self.state.run_in_thread(_owner, alloc.scheduler, body["ref"])
            if owner is None or hub_user(owner[0]) != identity.name:
                # another's job reads as one accounting does not know: no hint of whose it is
                self.fail(403, "forbidden", f"Job {body['ref']!r} is not {identity.name}'s: "
                          "source='sacct' charges only the caller's own jobs.", "denied")  # fmt: skip
            if alloc.account and owner[1] != alloc.account:
                self._bad(f"Job {body['ref']!r} ran under SLURM account {owner[1]!r}, not "
                          f"{alloc.account!r} of allocation {alloc.id!r}: charge it to the "
                          "allocation of that account.")  # fmt: skip
            cores, start, end = accounted
        try:
            rec = UsageRecord.from_times(
                allocation=body["allocation"], user=identity.name, kind=body["kind"],
                ref=body["ref"], cores=cores, start=start, end=end,
                source=body["source"],
            )  # fmt: skip
            kept = await self.state.run_in_thread(
                get_ledger(self.state.settings).record, rec, once=True
            )
        except GenesisError as exc:
            self._bad(str(exc))
        if kept is not rec:
            self.audit("success", f"{rec.kind} {rec.ref} already charged ({kept.source})")
            self.send_json({"record": asdict(kept)}, 200)
            return
        self.audit("success", f"{rec.core_hours} core-hours of {rec.kind} {rec.ref} to "
                   f"{rec.allocation}")  # fmt: skip
        self.send_json({"record": asdict(rec)}, 201)


def _accounted(scheduler: str, ref: str) -> tuple[int, float, float] | None:
    from genesis_lab.compute.accounting import accounted_usage

    return accounted_usage(ref, scheduler) if scheduler != "local" else None


def _owner(scheduler: str, ref: str) -> tuple[str, str] | None:
    from genesis_lab.compute.accounting import job_owner

    return job_owner(ref, scheduler) if scheduler != "local" else None


USAGE_HANDLERS: list[tuple[str, type[GenesisHandler]]] = [(r"api/usage", UsageHandler)]
