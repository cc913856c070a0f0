"""A single-node SLURM on 127.0.0.1 for trials and tests: munged, slurmctld and slurmd with a
private ``slurm.conf``, state, logs and pid files in one folder.

``genesis-lab dev slurm start|stop|status`` and the test suite's ``slurm`` fixture both use it.
Settings that worked on Debian 12 (see the module's ``_write_conf``): the node advertises 8 CPUs
and 16000 MB (``SlurmdParameters=config_overrides``) so a session, its dask workers and a pipeline
fit at once; partitions ``debug`` (default) and ``batch``. With Debian's ``slurmdbd`` and
``mariadb-server`` installed, SLURM's accounting runs too (a private MariaDB and slurmdbd,
:mod:`genesis_lab.compute.devaccounting`), so ``sacct`` answers; without them there is none
(``accounting_storage/none``).

>>> from genesis_lab.compute.devslurm import start_slurm, stop_slurm
>>> cluster = start_slurm()  # doctest: +SKIP
>>> cluster.env  # doctest: +SKIP
{'SLURM_CONF': '/tmp/genesis-slurm-.../slurm.conf'}
>>> stop_slurm(cluster)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from genesis_lab.compute import devaccounting
from genesis_lab.compute.network import free_port
from genesis_lab.errors import ComputeError

__all__ = ["SingleNodeSlurm", "attach", "start_slurm", "stop_slurm"]

SQUEUE_FIELDS = {"id": "%i", "name": "%j", "account": "%a", "partition": "%P", "state": "%T",
                 "user": "%u", "cpus": "%C", "comment": "%k"}  # fmt: skip


@dataclass
class SingleNodeSlurm:
    """A running single-node SLURM: its conf, partitions and a few helpers."""

    conf_path: Path
    root: Path
    node: str
    partition: str = "debug"
    partitions: tuple[str, ...] = ("debug", "batch")
    cpus: int = 8
    memory_mb: int = 16000
    pids: dict[str, int] = field(default_factory=dict)
    accounting: bool = False
    cluster_name: str = ""

    @property
    def env(self) -> dict[str, str]:
        """Variables a subprocess needs to use this SLURM (merge into its environment)."""
        return {"SLURM_CONF": str(self.conf_path)}

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        """Run a SLURM command (``sinfo``, ``scontrol``...) against this cluster; its stdout."""
        proc = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **self.env}, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc.stdout

    def squeue(self, *, name: str | None = None, states: str | None = None) -> list[dict[str, str]]:
        """Jobs in the queue as dicts (id, name, account, partition, state, user, cpus, comment)."""
        fmt = "|".join(SQUEUE_FIELDS.values())
        args = ["squeue", "--noheader", "--format", fmt]
        if name:
            args += ["--name", name]
        if states:
            args += ["--states", states]
        keys = list(SQUEUE_FIELDS)
        return [
            dict(zip(keys, line.split("|"), strict=False))
            for line in self.run(*args).splitlines()
            if line.strip()
        ]

    def add_association(self, account: str, user: str) -> None:
        """Make SLURM account ``account`` (if new) and let ``user`` charge it (an association),
        in this cluster's accounting; needs accounting. There is no ``AccountingStorageEnforce``:
        users without associations run under the account they ask for, and a user with some who
        asks for another account runs under its first (default) one."""
        if not self.accounting:
            raise ComputeError("This SLURM runs without accounting: install " + devaccounting.HOW)
        known = self.run("sacctmgr", "-n", "-P", "show", "account", account, "format=account")
        if account not in known.split():
            self.run("sacctmgr", "-i", "add", "account", account, f"cluster={self.cluster_name}")
        assocs = self.run("sacctmgr", "-n", "-P", "show", "assoc", f"account={account}",
                          f"user={user}", "format=user")  # fmt: skip
        if user not in assocs.split():
            self.run("sacctmgr", "-i", "add", "user", user, f"account={account}",
                     f"cluster={self.cluster_name}")  # fmt: skip

    def scancel_all(self) -> None:
        """Cancel every job of this cluster."""
        ids = [j["id"] for j in self.squeue()]
        if ids:
            self.run("scancel", *ids, check=False)

    def wait_no_jobs(self, *, name: str | None = None, timeout: float = 60) -> list[dict[str, str]]:
        """Wait until no job (called ``name``) is queued, running or completing; returns the rest."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.squeue(name=name)
            if not jobs or time.monotonic() > deadline:
                return jobs
            time.sleep(0.5)

    def wait_running(
        self, count: int, *, name: str | None = None, timeout: float = 60
    ) -> list[dict[str, str]]:
        """Wait until ``count`` jobs (called ``name``) are RUNNING; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.squeue(name=name, states="RUNNING")
            if len(jobs) >= count or time.monotonic() > deadline:
                return jobs
            time.sleep(0.3)


def _munge_answers() -> bool:
    proc = subprocess.run(["munge", "-n"], capture_output=True, check=False)
    return proc.returncode == 0


def _start_munged() -> None:
    if _munge_answers():
        return
    for d, mode in (("/run/munge", 0o755), ("/var/log/munge", 0o700), ("/var/lib/munge", 0o700)):
        os.makedirs(d, exist_ok=True)
        shutil.chown(d, "munge", "munge")
        os.chmod(d, mode)
    proc = subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    # another test session may have started it a moment ago: only its answer matters
    if proc.returncode != 0 and not _munge_answers():
        raise RuntimeError(f"munged did not start: {proc.stderr.strip()}")
    deadline = time.monotonic() + 15
    while not _munge_answers():
        if time.monotonic() > deadline:
            raise RuntimeError("munged started but does not answer `munge -n`")
        time.sleep(0.2)


def _write_conf(root: Path, node: str, cluster_name: str, dbd_port: int | None) -> Path:
    host = socket.gethostname().split(".")[0]
    accounting = (
        devaccounting.slurm_conf_lines(dbd_port)
        if dbd_port
        else "AccountingStorageType=accounting_storage/none\n"
    )
    for sub in ("state", "spool", "log", "run"):
        (root / sub).mkdir()
    conf = root / "slurm.conf"
    conf.write_text(
        f"""# private single-node SLURM of one genesis-lab test session
ClusterName={cluster_name}
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd-%n.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
MailProg=/bin/true
{accounting}JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=30
MpiDefault=none
NodeName={node} NodeAddr=127.0.0.1 NodeHostname={host} CPUs=8 RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes={node} MaxTime=INFINITE State=UP
"""
    )
    conf.chmod(0o644)
    return conf


def _read_pid(path: Path, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text().strip())
        time.sleep(0.1)
    raise RuntimeError(f"no pid file {path}")


def _stop(pid: int, timeout: float = 15) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # a test may have paused the daemon (controller outage)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)


def start_slurm(root: Path | None = None, *, accounting: bool | None = None) -> SingleNodeSlurm:
    """Start munged (if needed), MariaDB and slurmdbd (with ``accounting``), slurmctld and
    slurmd; wait until the node is idle.

    Its files go into ``root`` (a new temporary folder if None; it must not exist yet).
    ``accounting``: None starts it when its packages are installed, True requires them.
    """
    if os.geteuid() != 0:
        raise ComputeError("A single-node SLURM needs root (its daemons run as root).")
    missing = [b for b in ("slurmctld", "slurmd", "sbatch", "munged", "munge")
               if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]  # fmt: skip
    if missing:
        raise ComputeError(
            f"{', '.join(missing)} not installed: apt-get install slurm-wlm munge "
            "(`sudo make system`)."
        )
    if accounting is None:
        accounting = not devaccounting.missing()
    elif accounting and devaccounting.missing():
        gone = ", ".join(devaccounting.missing())
        raise ComputeError(f"{gone} not installed: {devaccounting.HOW}.")
    _start_munged()
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="genesis-slurm-"))
    else:
        root = Path(root)
        if root.exists() and any(root.iterdir()):
            raise ComputeError(
                f"{root} is not empty: stop the SLURM there first, or pick a folder."
            )
        root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # jobs of other users (batchspawner) read slurm.conf
    node, name = f"gl{uuid.uuid4().hex[:6]}", f"gl{uuid.uuid4().hex[:8]}"
    dbd_port = free_port() if accounting else None
    conf = _write_conf(root, node, name, dbd_port)
    cluster = SingleNodeSlurm(conf_path=conf, root=root, node=node, accounting=bool(accounting),
                              cluster_name=name)  # fmt: skip
    env = {**os.environ, **cluster.env}
    try:
        if dbd_port:
            devaccounting.start_accounting(root, env, dbd_port, name, cluster.pids)
        subprocess.run(["/usr/sbin/slurmctld", "-i"], env=env, check=True, timeout=30)
        cluster.pids["slurmctld"] = _read_pid(root / "run" / "slurmctld.pid")
        subprocess.run(["/usr/sbin/slurmd", "-N", node], env=env, check=True, timeout=30)
        cluster.pids["slurmd"] = _read_pid(root / "run" / f"slurmd-{node}.pid")
        deadline = time.monotonic() + 30
        while True:
            state = cluster.run("sinfo", "--noheader", "--format", "%t", check=False).split()
            if state and all(s == "idle" for s in state):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"node not idle after 30 s (sinfo says {state})")
            time.sleep(0.3)
    except BaseException as exc:
        logs = "\n".join(p.read_text()[-2000:] for p in (root / "log").glob("*.log") if p.is_file())
        stop_slurm(cluster)
        raise ComputeError(f"SLURM did not start: {exc}\n{logs}") from exc
    (root / "node").write_text(node)
    return cluster


def stop_slurm(cluster: SingleNodeSlurm) -> None:
    """Cancel every job, then stop slurmd, slurmctld, slurmdbd and MariaDB by pid (slurmctld
    hands its last job records to slurmdbd as it stops) and remove the folder."""
    if "slurmctld" in cluster.pids:
        try:
            cluster.scancel_all()
            cluster.wait_no_jobs(timeout=15)
        except (RuntimeError, subprocess.SubprocessError):
            pass
    for daemon in ("slurmd", "slurmctld", "slurmdbd", "mariadb"):
        if daemon in cluster.pids:
            _stop(cluster.pids[daemon], timeout=30 if daemon == "mariadb" else 15)
    shutil.rmtree(cluster.root, ignore_errors=True)


def attach(root: Path) -> SingleNodeSlurm:
    """The SLURM started earlier in ``root`` (its conf, node and daemons' pids).

    Raises :class:`ComputeError` when no SLURM was started there.
    """
    root = Path(root)
    conf, node_file = root / "slurm.conf", root / "node"
    if not conf.is_file() or not node_file.is_file():
        raise ComputeError(f"No single-node SLURM was started in {root}.")
    node = node_file.read_text().strip()
    text = conf.read_text()
    name = next((x.split("=", 1)[1] for x in text.splitlines() if x.startswith("ClusterName=")), "")
    cluster = SingleNodeSlurm(conf_path=conf, root=root, node=node, cluster_name=name,
                              accounting="accounting_storage/slurmdbd" in text)  # fmt: skip
    for daemon, name in (("slurmctld", "slurmctld.pid"), ("slurmd", f"slurmd-{node}.pid"),
                         ("slurmdbd", "slurmdbd.pid"), ("mariadb", "mariadb.pid")):  # fmt: skip
        with contextlib.suppress(OSError, ValueError):
            pid = int((root / "run" / name).read_text().strip())
            os.kill(pid, 0)
            cluster.pids[daemon] = pid
    return cluster
