"""The audit witness: a hub-managed service, run as the hub's user (root in production), that keeps
the genesis service's signed checkpoints where the service's account cannot write.

It listens on a Unix socket in its own folder (``<audit_witness_dir>/witness.sock``): the kernel
names the caller's uid (``SO_PEERCRED``), so only the account that owns the audit log's folder is
heard, no token is needed and no loopback port can be taken first by someone else. One JSON line
in, one JSON line out: ``{"op": "latest"}`` or ``{"op": "checkpoint", "checkpoint": {...}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any

from genesis_lab.access.checkpoints import Checkpoint, WitnessBook, WitnessRefusal, unsafe_ancestors
from genesis_lab.errors import AuditError
from genesis_lab.settings import Settings, get_settings

__all__ = ["SOCKET_NAME", "ask_witness", "peer_uid", "serve_witness", "witness_socket"]

SOCKET_NAME = "witness.sock"
MAX_LINE = 64 * 1024


def witness_socket(settings: Settings | None = None) -> Path:
    """The witness's socket for the current settings.

    >>> witness_socket().name
    'witness.sock'
    """
    settings = settings or get_settings()
    assert settings.audit_witness_dir is not None
    return settings.audit_witness_dir / SOCKET_NAME


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket, as the kernel knows it."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)[1]


def _allowed_uids(audit_dir: Path) -> set[int]:
    """The audit log folder's owner (the service's account); this process's user if none yet."""
    try:
        return {audit_dir.stat().st_uid}
    except FileNotFoundError:
        return {os.getuid()}


def answer(book: WitnessBook, request: Any) -> dict[str, Any]:
    """The witness's answer to one request (already authenticated).

    >>> import tempfile, pathlib
    >>> answer(WitnessBook(pathlib.Path(tempfile.mkdtemp())), {"op": "latest"})["seq"]
    0
    """
    if not isinstance(request, dict) or request.get("op") not in ("latest", "checkpoint"):
        return {"ok": False, "code": "bad-request", "message": "op must be latest or checkpoint"}
    try:
        if request["op"] == "latest":
            return {"ok": True, **book.latest()}
        cp = Checkpoint.from_dict(request.get("checkpoint") or {})
        return {"ok": True, **book.accept(cp)}
    except WitnessRefusal as exc:
        return {"ok": False, "code": exc.code, "message": str(exc), "epoch": exc.epoch}
    except AuditError as exc:
        return {"ok": False, "code": "bad-request", "message": str(exc)}


async def serve_witness(
    folder: Path, audit_dir: Path, *, ready: asyncio.Event | None = None
) -> None:
    """Keep the book in ``folder`` and answer on its socket until cancelled."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o711)  # the service's account must reach the socket (not list the folder)
    problems = unsafe_ancestors(folder)
    unsafe = (
        f"the audit witness keeps no book in {folder}: someone else could replace it: "
        + "; ".join(problems)
        if problems
        else ""
    )
    if unsafe:  # stay up (the hub would restart an exited service at once) and say why
        print(unsafe, file=sys.stderr, flush=True)
    book = WitnessBook(folder)
    path = folder / SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    lock = asyncio.Lock()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            uid = peer_uid(writer.get_extra_info("socket"))
            line = await asyncio.wait_for(reader.readline(), 10)
            if unsafe:
                reply = {"ok": False, "code": "unsafe", "message": unsafe}
            elif uid not in _allowed_uids(audit_dir):
                reply = {"ok": False, "code": "forbidden",
                         "message": f"uid {uid} does not own {audit_dir}"}  # fmt: skip
            else:
                try:
                    request = json.loads(line)
                except ValueError:
                    request = None
                async with lock:  # one book operation at a time; fsync off the event loop
                    reply = await asyncio.to_thread(answer, book, request)
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (OSError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, path=str(path), limit=MAX_LINE)
    os.chmod(path, 0o666)  # anyone may connect; the peer's uid decides
    if ready is not None:
        ready.set()
    print(f"audit witness: keeping {book.path} on {path}", flush=True)
    async with server:
        await server.serve_forever()


async def ask_witness(path: Path, request: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """Send one request to the witness at ``path`` and return its answer.

    Raises ``OSError`` (or ``TimeoutError``) when the witness cannot be reached.
    """

    async def exchange() -> dict[str, Any]:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
        if not line:
            raise ConnectionError(f"the witness at {path} closed the connection without answer")
        return json.loads(line)

    return await asyncio.wait_for(exchange(), timeout)


def main() -> int:
    """``python -m genesis_lab.service.witness``: run the witness for the current settings."""
    import signal

    settings = get_settings()
    assert settings.audit_witness_dir is not None and settings.state_dir is not None

    async def run() -> None:
        task = asyncio.ensure_future(
            serve_witness(settings.audit_witness_dir, settings.state_dir / "audit")
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(run())
    except AuditError as exc:
        print(f"audit witness: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
