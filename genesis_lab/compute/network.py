"""Which network interface links this host (hub, session, dask scheduler) and the compute nodes.

Used by :func:`~genesis_lab.compute.cluster` to pick ``interface`` and by ``genesis-lab doctor``.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

__all__ = ["Interface", "interface_for_address", "interfaces", "probe_tcp"]


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


def probe_tcp(bind_address: str, connect_address: str | None = None, timeout: float = 3.0) -> str:
    """Listen on ``bind_address``:random port and connect to it; returns "" or the error.

    >>> probe_tcp("127.0.0.1")
    ''
    """
    target = connect_address or bind_address
    try:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:  # pragma: no cover - no IPv4 at all
        return str(exc)
    accepted: list[bool] = []
    with server:
        try:
            server.bind((bind_address, 0))
            server.listen(1)
            server.settimeout(timeout)
            port = server.getsockname()[1]

            def accept() -> None:
                try:
                    conn, _ = server.accept()
                    conn.close()
                    accepted.append(True)
                except OSError:
                    pass

            t = threading.Thread(target=accept, daemon=True)
            t.start()
            with socket.create_connection((target, port), timeout=timeout):
                pass
            t.join(timeout)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
    return "" if accepted else f"no connection arrived on {bind_address} within {timeout:g} s"
