"""The service store's body buffers: reused only when nothing holds them, bounded, trimmed."""

from __future__ import annotations

import threading
import time

import numpy as np

from genesis_lab.catalog.receive_buffers import ReceiveBuffers

MB = 1 << 20


def test_a_buffer_zarr_still_views_is_not_handed_out_again():
    pool = ReceiveBuffers(max_bytes=16 * MB, min_bytes=MB)
    body = pool.take(2 * MB)
    chunk = np.frombuffer(body, dtype="<f8").reshape(512, 512)  # as zarr wraps a chunk
    first = body.ctypes.data
    del body
    again = pool.take(2 * MB)
    assert again.ctypes.data != first  # the chunk's memory is still in use
    del chunk
    assert pool.take(2 * MB).ctypes.data == first  # now nothing holds it


def test_threads_never_share_a_buffer_in_use():
    pool = ReceiveBuffers(max_bytes=64 * MB, min_bytes=MB)
    errors: list[str] = []

    def reader(k: int) -> None:
        for i in range(40):
            value = k * 1000 + i
            body = pool.take(MB)
            body[:] = value % 251
            chunk = np.frombuffer(body, dtype=np.uint8)  # held while "decoded"
            del body
            time.sleep(0.0005)
            if not (chunk == value % 251).all():
                errors.append(f"reader {k} round {i}: its chunk was overwritten")
            del chunk

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pool.pooled_bytes <= 64 * MB


def test_bounds_small_and_large_bodies_and_the_pool_size():
    pool = ReceiveBuffers(max_bytes=4 * MB, min_bytes=MB)
    small = pool.take(MB // 2)
    huge = pool.take(8 * MB)
    assert (small.nbytes, huge.nbytes) == (MB // 2, 8 * MB)
    assert pool.pooled_bytes == 0
    held = [pool.take(MB) for _ in range(6)]  # all in use: only 4 MB of them are kept
    assert all(b.nbytes == MB for b in held)
    assert pool.pooled_bytes == 4 * MB
    del held
    other = pool.take(3 * MB)  # free 1 MB buffers make room for a new size
    assert other.nbytes == 3 * MB and pool.pooled_bytes <= 4 * MB


def test_a_larger_free_buffer_serves_a_smaller_body_by_its_start():
    pool = ReceiveBuffers(max_bytes=16 * MB, min_bytes=MB)
    big = pool.take(3 * MB)
    start = big.ctypes.data
    del big
    part = pool.take(2 * MB)
    assert (part.nbytes, part.ctypes.data) == (2 * MB, start)
    view = np.frombuffer(part, dtype=np.uint8)
    del part
    assert pool.take(2 * MB).ctypes.data != start  # its owner is held through the view
    del view


def test_trim_drops_free_buffers_and_keeps_those_in_use():
    pool = ReceiveBuffers(max_bytes=16 * MB, min_bytes=MB, idle=60)
    held = pool.take(2 * MB)
    free = pool.take(3 * MB)
    del free
    pool.trim()
    assert pool.pooled_bytes == held.nbytes


def test_a_forked_child_starts_with_an_empty_pool_and_a_free_lock():
    import os
    import signal

    pool = ReceiveBuffers(max_bytes=16 * MB, min_bytes=MB)
    held = pool.take(2 * MB)
    with pool._lock:  # another thread holds the lock at the moment of the fork
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            code = 1
            try:
                signal.alarm(10)  # stuck on the copied lock: it dies instead of hanging the test
                code = 0 if pool.pooled_bytes == 0 and pool.take(2 * MB).nbytes == 2 * MB else 1
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert pool.pooled_bytes == held.nbytes


def test_idle_free_buffers_go_back_by_themselves():
    pool = ReceiveBuffers(max_bytes=16 * MB, min_bytes=MB, idle=0.2)
    held = pool.take(2 * MB)
    free = pool.take(3 * MB)
    del free
    deadline = time.monotonic() + 5
    while pool.pooled_bytes > held.nbytes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.pooled_bytes == held.nbytes
