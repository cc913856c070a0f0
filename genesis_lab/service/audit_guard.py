"""The service's side of AU-9: it checks its audit log at start, signs checkpoints to the witness
(every ``service.audit_checkpoint_records`` records, default 1000, and every
``service.audit_checkpoint_interval`` seconds while records arrive, default 2, and at shutdown),
and trips when the log no longer ends as it left it or the witness refuses a checkpoint.

Tripped, the service keeps the failed log untouched as evidence, writes new records to a log of
their own (``audit-after-fault-<time>.jsonl``), refuses data with a 503 that names the fix, and
resumes by itself once an administrator has reset the log at the witness (a new epoch).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from genesis_lab.access.audit import AuditLog, fault_log_path, hash_at, verify
from genesis_lab.access.checkpoints import load_signing_key, sign_checkpoint
from genesis_lab.errors import AuditError
from genesis_lab.service.witness import ask_witness, witness_socket
from genesis_lab.settings import Settings

__all__ = ["FIX", "AuditGuard"]

FIX = (
    "An administrator must run `genesis-lab audit verify` (it names the first bad record), keep "
    "the evidence, then `genesis-lab audit reset --reason TEXT` as root (the witness's owner); "
    "the service resumes by itself after the reset. Public catalog metadata is still served."
)


def _say(message: str) -> None:
    print(f"genesis service: audit: {message}", file=sys.stderr, flush=True)


class AuditGuard:
    """Which log records go to, whether it failed verification (``fault``: why), and the
    checkpoints sent to the witness.

    >>> import tempfile, pathlib
    >>> from genesis_lab.settings import Settings
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> guard = AuditGuard(Settings(home=home), AuditLog(home / "audit.jsonl", sole_writer=True))
    >>> guard.check_at_start().ok, guard.fault
    (True, None)
    """

    def __init__(self, settings: Settings, log: AuditLog):
        self.main = log
        self.current = log
        self.fault: str | None = None
        self.socket = witness_socket(settings)
        self.every_records = int(settings.service.get("audit_checkpoint_records", 1000))
        self.interval = float(settings.service.get("audit_checkpoint_interval", 2))
        self.epoch: int | None = None
        self.checkpointed = 0
        self.checkpoints_sent = 0
        self.witness_reachable: bool | None = None
        self._fault_epoch: int | None = None
        self._key: Any = None
        self._task: asyncio.Future | None = None
        self.running = False

    # -- records --------------------------------------------------------------------------
    def append_many(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append to the current log; if the main log fails its check, trip, write the records
        to the fault log, and raise :class:`AuditError` so the requests are not served."""
        log = self.current
        try:
            return log.append_many(items)
        except AuditError as exc:
            if log is not self.main:
                raise
            self.trip(str(exc))
            self.current.append_many(items)
            raise

    def note_appended(self) -> None:
        """After an append (on the event loop): checkpoint now if enough records piled up."""
        w = self.main.written
        if (
            self.running
            and self.fault is None
            and w is not None
            and w.count - self.checkpointed >= self.every_records
        ):
            self._kick()

    # -- faults ---------------------------------------------------------------------------
    def trip(self, why: str) -> None:
        """Stop writing the main log (it is evidence now) and refuse data from here on."""
        if self.fault is not None:
            return
        self.fault = why
        self._fault_epoch = self.epoch
        self.current = AuditLog(fault_log_path(self.main.path))
        _say(f"FAILED: {why}. New records go to {self.current.path}. {FIX}")

    def check_at_start(self) -> Any:
        """Verify the whole chain and head (the witness is compared at the first tick)."""
        report = verify(self.main.path)
        if report.ok:
            self.main.adopt(report)
        else:
            first = report.problems[0]["problem"]
            self.trip(f"at start, from record seq {report.first_bad_seq}: {first}")
        return report

    # -- checkpoints ----------------------------------------------------------------------
    async def run(self) -> None:
        """Tick now and every ``interval`` seconds until cancelled."""
        self.running = True
        try:
            while True:
                try:
                    await self._kick()
                except Exception as exc:  # the guard must outlive one bad tick
                    _say(f"checkpoint tick failed: {exc!r}")
                await asyncio.sleep(self.interval)
        finally:
            self.running = False

    def _kick(self) -> asyncio.Future:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.tick())
        return self._task

    async def tick(self) -> None:
        """One step: poll for a reset when tripped, anchor to the witness when not yet, or send a
        checkpoint when records arrived since the last one."""
        if self.fault is not None:
            await self._poll_reset()
            return
        if self.epoch is None:
            await self._anchor()
        w = self.main.written
        if self.fault is None and self.epoch is not None and w and w.count > self.checkpointed:
            await self.checkpoint()

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The witness's answer; None (said once) when it cannot be reached or keeps no book."""
        try:
            reply = await ask_witness(self.socket, request)
            if reply.get("code") in ("unsafe", "forbidden"):
                raise ConnectionError(reply.get("message"))
        except (OSError, TimeoutError, ValueError) as exc:
            if self.witness_reachable is not False:
                _say(f"no checkpoints: the witness at {self.socket} cannot be used ({exc}); "
                     "retrying")  # fmt: skip
            self.witness_reachable = False
            return None
        self.witness_reachable = True
        return reply

    async def _anchor(self) -> None:
        """Compare the log with the witness's newest checkpoint (at start and after a reset)."""
        latest = await self._ask({"op": "latest"})
        if latest is None or not latest.get("ok"):
            return
        seq, head = int(latest["seq"]), latest.get("head")
        w = self.main.written
        count = w.count if w else 0
        if seq:
            found = w.hash if w and count == seq else None
            if count > seq:
                found = await asyncio.to_thread(hash_at, self.main.path, seq - 1)
            if count < seq or found != head:
                self.trip(
                    f"the witness holds a checkpoint of {seq} records ending in {head}, the log "
                    f"holds {count} records"
                    + ("" if count < seq else f" and record {seq - 1} has hash {found}")
                )
                self._fault_epoch = int(latest["epoch"])
                return
        self.epoch = int(latest["epoch"])
        self.checkpointed = seq

    async def checkpoint(self) -> None:
        """Check the log's tail, sign its state and hand it to the witness."""
        try:
            w = await asyncio.to_thread(self.main.check_tail)
        except AuditError as exc:
            self.trip(str(exc))
            return
        if w is None or w.count <= self.checkpointed or self.epoch is None:
            return
        if self._key is None:
            self._key = load_signing_key(self.main.path.parent)
        cp = sign_checkpoint(self._key, epoch=self.epoch, seq=w.count, head=w.hash)
        reply = await self._ask({"op": "checkpoint", "checkpoint": cp.to_dict()})
        if reply is None:
            return
        if reply.get("ok"):
            self.checkpointed = w.count
            self.checkpoints_sent += 1
        else:
            self.trip(f"the witness refused the checkpoint of {w.count} records: "
                      f"{reply.get('message')}")  # fmt: skip

    async def _poll_reset(self) -> None:
        latest = await self._ask({"op": "latest"})
        if latest is None or not latest.get("ok"):
            return
        epoch = int(latest["epoch"])
        if self._fault_epoch is None:
            self._fault_epoch = epoch
            return
        if epoch == self._fault_epoch:
            return
        report = await asyncio.to_thread(verify, self.main.path)
        if not report.ok or report.records < int(latest["seq"]):
            return  # not reset by the book; keep refusing until it is
        self.main.adopt(report)
        self.current, self.fault, self._fault_epoch = self.main, None, None
        self.epoch, self.checkpointed = None, 0
        await self._anchor()
        if self.fault is None:
            _say(f"the log was reset at the witness (epoch {epoch}); serving data again")

    async def close(self, timeout: float = 5.0) -> None:
        """The shutdown checkpoint."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.tick(), timeout)
