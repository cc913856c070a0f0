"""The one-connection listener behind ``probe_tcp`` and the doctor's job probe, on loopback."""

from __future__ import annotations

import socket
import time

import pytest

from genesis_lab.compute.network import listen_once, probe_tcp


def test_the_listener_keeps_what_the_connection_sent():
    with listen_once("127.0.0.1", timeout=5) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=5) as client:
            client.sendall(b"2026.8.0 2026.8.0")
        assert listener.wait(5) == b"2026.8.0 2026.8.0"


def test_a_silent_connection_is_told_apart_from_none():
    with listen_once("127.0.0.1", timeout=5) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=5):
            pass
        assert listener.wait(5) == b""


def test_no_connection_within_the_timeout_is_none():
    start = time.monotonic()
    with listen_once("127.0.0.1", timeout=0.3) as listener:
        assert listener.wait(5) is None
    assert time.monotonic() - start < 4  # the accept gave up at its own timeout


def test_the_port_is_closed_after_the_block():
    with listen_once("127.0.0.1", timeout=5) as listener:
        port = listener.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_an_address_this_host_lacks_raises():
    with pytest.raises(OSError), listen_once("192.0.2.1", timeout=1):
        pass


def test_probe_tcp_reports_success_and_each_kind_of_failure():
    assert probe_tcp("127.0.0.1") == ""
    assert probe_tcp("192.0.2.1").startswith("OSError:")
    refused = probe_tcp("127.0.0.1", connect_address="127.0.0.2", timeout=1)
    assert refused.startswith("ConnectionRefusedError:")


def test_leaving_the_block_does_not_wait_for_the_accept_timeout():
    start = time.monotonic()
    with listen_once("127.0.0.1", timeout=60):
        pass
    with listen_once("127.0.0.1", timeout=60) as listener:
        client = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
        time.sleep(0.3)  # the thread accepts and blocks reading
    client.close()
    assert time.monotonic() - start < 5
