"""Memory for the service store's response bodies, reused once nothing holds it any more.

Fresh memory costs the kernel a page fault and a zeroed page for every page the body lands in;
for a 200 MB zarr read through the hub's proxy that was a third of the SDK's CPU on this machine
(``benchmarks/bench_hub.py``). A buffer is handed out again only when its reference count says the
pool is its only holder (zarr's views of a chunk hold the buffer they view, as do memoryviews and
numpy arrays made from it), so a chunk still in use is never written over. Free buffers unused for
``idle`` seconds are dropped (2 by default: a session gets its memory back soon after its last
read), and the pool never holds more than ``max_bytes``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ReceiveBuffers"]


def _refs(slot: list) -> int:
    """References to ``slot[0]`` (the same expression for the probe and for real slots)."""
    return sys.getrefcount(slot[0])


class ReceiveBuffers:
    """A bounded pool of uninitialised ``uint8`` arrays, safe to share between threads.

    >>> pool = ReceiveBuffers(max_bytes=8 << 20, min_bytes=1 << 20)
    >>> a = pool.take(2 << 20)
    >>> pool.take(2 << 20) is a  # still held here: a new one
    False
    >>> address = a.ctypes.data
    >>> del a
    >>> pool.take(2 << 20).ctypes.data == address  # nothing holds it: reused
    True
    """

    def __init__(
        self, max_bytes: int = 256 << 20, min_bytes: int = 1 << 20, idle: float = 2.0
    ) -> None:
        import numpy as np

        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self.idle = idle
        self._lock = threading.Lock()
        self._slots: list[list] = []  # [array, last used (monotonic seconds)]
        self._free_refs = _refs([np.empty(0, dtype=np.uint8), 0.0])
        self._janitor: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child: a fresh lock and pool (the parent's threads did not come along)."""
        self._lock = threading.Lock()
        self._slots = []
        self._janitor = None

    def _is_free(self, slot: list) -> bool:
        return _refs(slot) == self._free_refs

    @property
    def pooled_bytes(self) -> int:
        """Bytes the pool keeps (free or lent)."""
        with self._lock:
            return sum(slot[0].nbytes for slot in self._slots)

    def take(self, nbytes: int) -> np.ndarray:
        """An uninitialised ``uint8`` array of ``nbytes``: a free pooled one (or the start of one
        at most twice as large) if there is one, else a new one, pooled if it fits."""
        import numpy as np

        if not self.min_bytes <= nbytes <= self.max_bytes:
            return np.empty(nbytes, dtype=np.uint8)
        with self._lock:
            now = time.monotonic()
            best: list | None = None
            for slot in self._slots:
                size = slot[0].nbytes
                smaller = best is None or size < best[0].nbytes
                if nbytes <= size < 2 * nbytes and smaller and self._is_free(slot):
                    best = slot
            if best is not None:
                best[1] = now
                buf = best[0]
                return buf if buf.nbytes == nbytes else buf[:nbytes]
            pooled = sum(slot[0].nbytes for slot in self._slots)
            if pooled + nbytes > self.max_bytes:  # make room: drop free ones, oldest first
                for slot in sorted(self._slots, key=lambda s: s[1]):
                    if pooled + nbytes <= self.max_bytes:
                        break
                    if self._is_free(slot):
                        self._slots.remove(slot)
                        pooled -= slot[0].nbytes
            buf = np.empty(nbytes, dtype=np.uint8)
            if pooled + nbytes <= self.max_bytes:
                self._slots.append([buf, now])
                self._start_janitor()
            return buf

    def trim(self, older_than: float = 0.0) -> None:
        """Drop the free buffers unused for more than ``older_than`` seconds."""
        with self._lock:
            now = time.monotonic()
            self._slots = [s for s in self._slots
                           if not (now - s[1] > older_than and self._is_free(s))]  # fmt: skip

    def _start_janitor(self) -> None:
        if self._janitor is None:
            self._janitor = threading.Thread(
                target=self._sweep, name="genesis-receive-buffers", daemon=True
            )
            self._janitor.start()

    def _sweep(self) -> None:
        """Drop idle free buffers every ``idle / 2`` seconds; end when the pool is empty."""
        while True:
            time.sleep(self.idle / 2)
            self.trim(self.idle)
            with self._lock:
                if not self._slots:
                    self._janitor = None
                    return
