"""Which network interface links this host (hub, session, dask scheduler) and the compute nodes.

Used by :func:`~genesis_lab.compute.cluster` to pick ``interface`` and by ``genesis-lab doctor``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Interface",
    "Listener",
    "free_port",
    "interface_for_address",
    "interfaces",
    "listen_once",
    "probe_tcp",
]


@dataclass(frozen=True)
class Interface:
    """A network interface and its IPv4 address."""

    name: str
    address: str
    up: bool


def interfaces() -> list[Interface]:
    """Interfaces with an IPv4 address (from psutil), loopback included.

    >>> any(i.address == "127.0.0.1" for i in interfaces())
    True
    """
    import psutil

    stats = psutil.net_if_stats()
    out = []
    for name, addrs in psutil.net_if_addrs().items():
        for a in addrs:
            if a.family == socket.AF_INET:
                up = bool(stats[name].isup) if name in stats else False
                out.append(Interface(name=name, address=a.address, up=up))
    return sorted(out, key=lambda i: (not i.up, i.name))


def interface_for_address(address: str) -> Interface | None:
    """The interface this host uses to reach ``address`` (a routing lookup; nothing is sent).

    >>> interface_for_address("127.0.0.1").name in {"lo", "lo0"}
    True
    """
    try:
        ip = socket.gethostbyname(address)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((ip, 9))  # UDP connect only asks the kernel for the route
            local = s.getsockname()[0]
    except OSError:
        return None
    for iface in interfaces():
        if iface.address == local:
            return iface
    return None


class Listener:
    """A TCP listener that accepts one connection in a thread and keeps what it sends (1 KiB)."""

    def __init__(self, server: socket.socket) -> None:
        self.port: int = server.getsockname()[1]
        self._server = server
        self._conn: socket.socket | None = None
        self._closed = False
        self._arrived = threading.Event()
        self._data = b""
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:  # timed out, or shut down by close()
            return
        with conn:
            self._conn = conn
            self._arrived.set()
            if self._closed:
                return
            try:
                conn.settimeout(self._server.gettimeout())
                self._data = conn.recv(1024)
            except OSError:
                pass

    def wait(self, timeout: float) -> bytes | None:
        """What the connection sent (``b""`` if nothing), or ``None`` if none arrived in time."""
        self._thread.join(timeout)
        return self._data if self._arrived.is_set() else None

    def close(self) -> None:
        # close() alone would not wake a thread blocked in accept or recv, and the kernel
        # keeps listening until that thread lets go; shutdown wakes it at once.
        self._closed = True
        for sock in (self._server, self._conn):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join()


@contextlib.contextmanager
def listen_once(address: str, timeout: float) -> Iterator[Listener]:
    """Listen on ``address`` and a free port for one connection; closed when the block ends.

    ``timeout`` bounds the wait for the connection and then for its data. Binding errors
    (an address this host does not have) raise :class:`OSError`.

    >>> with listen_once("127.0.0.1", timeout=3) as listener:
    ...     with socket.create_connection(("127.0.0.1", listener.port)) as client:
    ...         client.sendall(b"dask 2026.8.0")
    ...     listener.wait(3)
    b'dask 2026.8.0'
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((address, 0))
        server.listen(1)
        server.settimeout(timeout)
        listener = Listener(server)
        try:
            yield listener
        finally:
            listener.close()


def probe_tcp(bind_address: str, connect_address: str | None = None, timeout: float = 3.0) -> str:
    """Listen on ``bind_address``:random port and connect to it; returns "" or the error.

    >>> probe_tcp("127.0.0.1")
    ''
    """
    try:
        with listen_once(bind_address, timeout) as listener:
            target = connect_address or bind_address
            with socket.create_connection((target, listener.port), timeout=timeout):
                pass
            arrived = listener.wait(timeout) is not None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "" if arrived else f"no connection arrived on {bind_address} within {timeout:g} s"


def free_port(address: str = "127.0.0.1", prefer: int | None = None) -> int:
    """A TCP port on ``address`` that nothing listens on now (for ports a site sets to 0):
    ``prefer`` itself when it is free (a port kept from an earlier start), else any.

    >>> 0 < free_port() < 65536
    True
    """
    if prefer:
        with socket.socket() as sock:
            # as servers bind: a port whose old connections linger (TIME_WAIT) is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, prefer))
                return prefer
            except OSError:
                pass
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]
