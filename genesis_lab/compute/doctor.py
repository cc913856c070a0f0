"""``genesis-lab doctor``: can this host, the batch scheduler and its compute nodes work together?

Checks scheduler commands, the controller, which interface reaches the nodes, and dask versions.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from typing import Any

from genesis_lab.compute.allocations import Allocation, get_allocation, get_allocations
from genesis_lab.compute.commands import run_command
from genesis_lab.compute.network import interface_for_address, interfaces, listen_once, probe_tcp
from genesis_lab.compute.schedulers import scheduler_config
from genesis_lab.errors import SchedulerError

__all__ = ["Check", "run_doctor"]


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, what was found, and how to fix a failure."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _versions() -> Check:
    import importlib.metadata as md
    import sys

    found = {"python": sys.version.split()[0]}
    missing = []
    for pkg in ("dask", "distributed", "dask-jobqueue"):
        try:
            found[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            missing.append(pkg)
    detail = ", ".join(f"{k} {v}" for k, v in found.items())
    if missing:
        return Check("dask versions", False, f"{detail}; missing {', '.join(missing)}",
                     "pip install 'genesis-lab[hpc]'")  # fmt: skip
    if found["dask"] != found["distributed"]:
        return Check("dask versions", False, f"{detail}: dask and distributed differ",
                     "install matching dask and distributed releases")  # fmt: skip
    return Check("dask versions", True, detail)


def _scheduler_checks(scheduler: str) -> tuple[list[Check], list[str]]:
    conf = scheduler_config(scheduler)
    checks = []
    missing = [c for c in conf["commands"] if shutil.which(c) is None]
    checks.append(
        Check(
            f"{scheduler} commands",
            not missing,
            f"missing: {', '.join(missing)}" if missing else ", ".join(conf["commands"]) + " found",
            f"install the {scheduler} client commands or put them on PATH" if missing else "",
        )
    )
    if missing:
        return checks, []
    try:
        out = run_command(conf["controller_ping"], timeout=15)
        checks.append(
            Check(
                f"{scheduler} controller",
                True,
                out.stdout.strip().splitlines()[0][:120] if out.stdout.strip() else "answers",
            )
        )
    except SchedulerError as exc:
        checks.append(Check(f"{scheduler} controller", False, str(exc)[:300],
                            "start the controller, or check SLURM_CONF / the scheduler's config"))  # fmt: skip
        return checks, []
    nodes: list[str] = []
    if conf.get("node_addresses"):
        try:
            out = run_command(conf["node_addresses"], timeout=15).stdout
            nodes = list(dict.fromkeys(x.strip() for x in out.splitlines() if x.strip()))
        except SchedulerError as exc:
            checks.append(Check("compute nodes", False, str(exc)[:300]))
    return checks, nodes


def _network_checks(nodes: list[str], preferred: str | None) -> list[Check]:
    checks = []
    listing = ", ".join(f"{i.name}={i.address}{'' if i.up else ' (down)'}" for i in interfaces())
    checks.append(Check("interfaces", True, listing))
    chosen = None
    if preferred:
        chosen = next((i for i in interfaces() if i.name == preferred), None)
        if chosen is None:
            checks.append(Check("interface", False, f"the allocation names {preferred!r}, which this host lacks",
                                f"set interface to one of: {listing}"))  # fmt: skip
            return checks
    for node in nodes[:5]:
        iface = interface_for_address(node)
        if iface is None:
            checks.append(Check(f"route to {node}", False, "no route from this host",
                                "check the node's address and this host's network"))  # fmt: skip
            continue
        chosen = chosen or iface
        checks.append(
            Check(f"route to {node}", True, f"via interface {iface.name} ({iface.address})")
        )
        # the dask scheduler listens on the chosen interface; can a connection reach it there?
        problem = probe_tcp(chosen.address)
        checks.append(Check(f"tcp {chosen.name} <-> {node}", not problem,
                            problem or f"a listener on {chosen.address} accepted a connection",
                            "open the firewall between the hub host and the compute nodes" if problem else ""))  # fmt: skip
    if chosen is not None:
        checks.append(Check("interface to use", True, f"{chosen.name} ({chosen.address})",
                            "set `interface:` in the allocation to pin it"))  # fmt: skip
    return checks


def _job_probe(alloc: Allocation, address: str, timeout: float = 90) -> list[Check]:
    """Submit a tiny job that connects back to a listener on ``address`` and sends its versions."""
    import shlex
    import sys

    import dask
    import distributed

    command = scheduler_config(alloc.scheduler).get("probe_job")
    if not command:
        return [
            Check("job on a compute node", True, f"no probe job for {alloc.scheduler}; skipped")
        ]
    with listen_once(address, timeout) as listener:
        port = listener.port
        code = (
            "import socket, dask, distributed; "
            f"s = socket.create_connection(({address!r}, {port}), 10); "
            "s.sendall(f'{dask.__version__} {distributed.__version__}'.encode()); s.close()"
        )
        line = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
        values = {"account": alloc.account or "", "queue": alloc.queue or "", "command": line}
        args = [a.format(**values) for a in command]
        if not alloc.queue:
            args = [a for a in args if not a.startswith("--partition=")]
        try:
            run_command(args, timeout=timeout)
        except SchedulerError as exc:
            return [Check("job on a compute node", False, str(exc)[:300],
                          "check the allocation's account and queue with `genesis-lab alloc show`")]  # fmt: skip
        sent = listener.wait(10)
    if sent is None:
        return [Check("compute node -> this host", False,
                      f"the job ran but did not reach {address}:{port}",
                      "pick another interface (allocation `interface:`) or open the firewall")]  # fmt: skip
    received = sent.decode(errors="replace")
    here = f"{dask.__version__} {distributed.__version__}"
    checks = [Check("compute node -> this host", True, f"a job connected to {address}:{port}")]
    same = received.strip() == here
    checks.append(Check("worker versions", same, f"compute node: dask/distributed {received}; here: {here}",
                        "" if same else "run the workers in the same environment as the session"))  # fmt: skip
    return checks


def run_doctor(allocation: str | None = None, *, job: bool = False) -> list[Check]:
    """Run every check for ``allocation`` (default: the session's, else each scheduler in use).

    With ``job``, also submit a tiny job that connects back to this host on the chosen
    interface and reports the compute node's dask versions.

    >>> checks = run_doctor()
    >>> checks[0].name
    'dask versions'
    """
    checks = [_versions()]
    chosen: list[Allocation] = []
    alloc = get_allocation(allocation) if allocation else get_allocation()
    if alloc is not None:
        chosen = [alloc]
    else:
        seen = set()
        for a in get_allocations().values():
            if a.scheduler not in seen:
                seen.add(a.scheduler)
                chosen.append(a)
    if not any(a.scheduler != "local" for a in chosen):
        checks.extend(_network_checks(["127.0.0.1"], None))
        return checks
    for a in chosen:
        if a.scheduler == "local":
            continue
        sched_checks, nodes = _scheduler_checks(a.scheduler)
        checks.extend(sched_checks)
        if nodes:
            net = _network_checks(nodes, a.interface)
            checks.extend(net)
            chosen = next((c for c in net if c.name == "interface to use"), None)
            if job and chosen is not None:
                checks.extend(_job_probe(a, chosen.detail.split("(")[1].rstrip(")")))
    return checks
