"""What the launcher keeps from one hub start to the next."""

from __future__ import annotations

import socket

from genesis_lab.hub.launcher import prepare


def _hub_port(argv: list[str]) -> int:
    (found,) = [a for a in argv if a.startswith("--JupyterHub.hub_port=")]
    return int(found.split("=", 1)[1])


def test_the_hub_port_is_kept_across_starts_while_it_is_free(genesis_home):
    """Sessions that outlive their hub (a crash, a restart) call its API at the port they were
    started with: the next hub must listen there."""
    first = _hub_port(prepare(port=18765).argv)
    assert _hub_port(prepare(port=18765).argv) == first
    with socket.socket() as squatter:  # something else took it while the hub was down
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        moved = _hub_port(prepare(port=18765).argv)
    assert moved != first
    assert _hub_port(prepare(port=18765).argv) == moved
