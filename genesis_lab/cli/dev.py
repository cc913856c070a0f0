"""``genesis-lab dev slurm start|stop|status``: a single-node SLURM on this machine for a trial.

The same daemons and ``slurm.conf`` as the test suite's ``slurm`` fixture
(:mod:`genesis_lab.compute.devslurm`), kept in one folder until stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json

DEFAULT_DIR = Path("/var/lib/genesis-lab/dev-slurm")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dev", help="development helpers (a trial SLURM)")
    dsub = p.add_subparsers(dest="dev_command", metavar="ACTION")
    dsub.required = True
    sl = dsub.add_parser("slurm", help="a single-node SLURM on 127.0.0.1 (as root)")
    ssub = sl.add_subparsers(dest="slurm_command", metavar="ACTION")
    ssub.required = True
    for name, func, text in (
        (
            "start",
            _start,
            "start munged, slurmctld, slurmd (slurmdbd if installed); print SLURM_CONF",
        ),
        ("stop", _stop, "cancel its jobs and stop its daemons"),
        ("status", _status, "whether it runs, and its conf"),
    ):
        cmd = ssub.add_parser(name, help=text)
        cmd.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                         help=f"its folder (conf, state, logs; default {DEFAULT_DIR})")  # fmt: skip
        add_json_flag(cmd)
        cmd.set_defaults(func=func)


def _describe(cluster, running: bool) -> dict:
    return {"running": running, "folder": str(cluster.root), "slurm_conf": str(cluster.conf_path),
            "node": cluster.node, "partitions": list(cluster.partitions),
            "pids": cluster.pids}  # fmt: skip


def _show(info: dict, as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    state = "running" if info["running"] else "stopped"
    print(f"single-node SLURM {state} in {info['folder']} (node {info['node']}, partitions "
          f"{', '.join(info['partitions'])})")  # fmt: skip
    if info["running"]:
        print(f"export SLURM_CONF={info['slurm_conf']}")


def _start(args: argparse.Namespace) -> int:
    from genesis_lab.compute.devslurm import start_slurm

    _show(_describe(start_slurm(args.dir), True), args.json)
    return 0


def _stop(args: argparse.Namespace) -> int:
    import shutil

    from genesis_lab.compute.devslurm import attach, stop_slurm

    cluster = attach(args.dir)
    if cluster.pids:
        stop_slurm(cluster)
    else:
        shutil.rmtree(cluster.root, ignore_errors=True)
    _show(_describe(cluster, False), args.json)
    return 0


def _status(args: argparse.Namespace) -> int:
    from genesis_lab.compute.devslurm import attach

    cluster = attach(args.dir)
    running = {"slurmctld", "slurmd"} <= set(cluster.pids)
    _show(_describe(cluster, running), args.json)
    return 0 if running else 1
