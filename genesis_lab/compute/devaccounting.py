"""SLURM accounting for the single-node SLURM of :mod:`genesis_lab.compute.devslurm`: a private
MariaDB and ``slurmdbd``, so ``sacct`` answers as it does at a centre.

MariaDB keeps its data in ``<root>/mariadb`` (0700: the ``mysql`` account's, root's when
``mysql`` cannot reach the folder) and listens on a socket there only (no TCP); ``slurmdbd`` (as
root, the SlurmUser) reaches it through that socket as MariaDB's ``root`` (socket
authentication: no password anywhere) and listens on a free port
that ``slurm.conf`` names. Debian's ``slurmdbd`` and ``mariadb-server`` packages provide them.

>>> from genesis_lab.compute.devaccounting import missing
>>> isinstance(missing(), list)
True
"""

from __future__ import annotations

import pwd
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from genesis_lab.errors import ComputeError

__all__ = ["HOW", "missing", "slurm_conf_lines", "start_accounting"]

HOW = "apt-get install slurmdbd mariadb-server (`sudo make system`)"
BINARIES = ("slurmdbd", "sacctmgr", "sacct", "mariadbd", "mariadb-install-db", "mariadb")
DATABASE = "slurm_acct_db"


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/bin"):
        if Path(folder, name).exists():
            return str(Path(folder, name))
    return None


def missing() -> list[str]:
    """The accounting programs that are not installed (empty when accounting can start)."""
    return [b for b in BINARIES if _which(b) is None]


def slurm_conf_lines(dbd_port: int) -> str:
    """The ``slurm.conf`` lines that send job records to this ``slurmdbd``."""
    return (
        "AccountingStorageType=accounting_storage/slurmdbd\n"
        "AccountingStoreFlags=job_comment\n"
        "AccountingStorageHost=localhost\n"
        f"AccountingStoragePort={dbd_port}\n"
    )


def _db_account(folder: Path) -> str:
    """``mysql`` when that account can write ``folder`` (whose owner it becomes), else root
    (a SLURM folder inside a private one, say a 0700 temporary folder)."""
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        return "root"
    shutil.chown(folder, "mysql", "mysql")
    probe = subprocess.run(["runuser", "-u", "mysql", "--", "test", "-w", str(folder)],
                           capture_output=True, timeout=30, check=False)  # fmt: skip
    if probe.returncode == 0:
        return "mysql"
    shutil.chown(folder, "root", "root")
    return "root"


def _socket(root: Path) -> Path:
    return root / "mariadb" / "mariadb.sock"


def _client(root: Path, sql: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_which("mariadb")), "--no-defaults", f"--socket={_socket(root)}", "-u", "root",
         "-N", "-e", sql],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def _start_mariadb(root: Path) -> int:
    folder = root / "mariadb"
    folder.mkdir(mode=0o700)
    account = _db_account(folder)
    data, log = folder / "data", folder / "mariadb.log"
    init = subprocess.run(
        [str(_which("mariadb-install-db")), "--no-defaults", f"--datadir={data}",
         f"--user={account}", "--auth-root-authentication-method=socket", "--skip-test-db",
         "--skip-name-resolve"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    if init.returncode != 0:
        raise ComputeError(f"mariadb-install-db failed: {(init.stderr or init.stdout)[-2000:]}")
    # a dev database: small, no TCP, no fsync per commit (a crash loses a test's job records);
    # started as a daemon of its own (setsid --fork), like slurmctld, not as our child
    pid_file = folder / "mariadb.pid"
    subprocess.run(
        ["setsid", "--fork", str(_which("mariadbd")), "--no-defaults", f"--datadir={data}",
         f"--user={account}", f"--socket={_socket(root)}", "--skip-networking",
         f"--log-error={log}", f"--pid-file={pid_file}", "--innodb-buffer-pool-size=32M",
         "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0",
         "--innodb-doublewrite=0", "--innodb-lock-wait-timeout=900", "--skip-log-bin"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        check=True, timeout=30,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and _client(root, "SELECT 1").returncode == 0):
        if time.monotonic() > deadline:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ComputeError(f"MariaDB did not start in {folder}: {tail}")
        time.sleep(0.2)
    pid = int(pid_file.read_text().strip())
    (root / "run" / "mariadb.pid").write_text(f"{pid}\n")
    return pid


def _write_dbd_conf(root: Path, dbd_port: int) -> Path:
    conf = root / "slurmdbd.conf"  # beside slurm.conf: slurmdbd finds it through SLURM_CONF
    conf.touch(mode=0o600)
    conf.chmod(0o600)  # slurmdbd refuses a conf others can read
    conf.write_text(
        f"""# slurmdbd of one genesis-lab single-node SLURM
AuthType=auth/munge
DbdHost=localhost
DbdPort={dbd_port}
SlurmUser=root
PidFile={root}/run/slurmdbd.pid
LogFile={root}/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc={DATABASE}
"""
    )
    return conf


def start_accounting(
    root: Path, env: Mapping[str, str], dbd_port: int, cluster_name: str, pids: dict[str, int]
) -> None:
    """Start MariaDB and ``slurmdbd`` for the SLURM whose ``slurm.conf`` is in ``root`` (it
    must already name ``dbd_port``, see :func:`slurm_conf_lines`) and register
    ``cluster_name``. Their pids go into ``pids`` (``mariadb``, ``slurmdbd``) as they start, so
    the caller can stop what did start when a later step fails. Call before slurmctld.
    """
    gone = missing()
    if gone:
        raise ComputeError(f"{', '.join(gone)} not installed: {HOW}.")
    pids["mariadb"] = _start_mariadb(root)
    _write_dbd_conf(root, dbd_port)
    dbd_env = {**env, "MYSQL_UNIX_PORT": str(_socket(root))}
    subprocess.run([str(_which("slurmdbd"))], env=dbd_env, check=True, timeout=60)
    pid_file = root / "run" / "slurmdbd.pid"
    deadline = time.monotonic() + 60
    while True:
        show = _sacctmgr(env, "-n", "-P", "show", "cluster", "format=cluster")
        if show.returncode == 0 and pid_file.exists() and pid_file.read_text().strip():
            break
        if time.monotonic() > deadline:
            raise ComputeError(f"slurmdbd does not answer sacctmgr: {show.stderr.strip()}")
        time.sleep(0.3)
    pids["slurmdbd"] = int(pid_file.read_text().strip())
    add = _sacctmgr(env, "-i", "add", "cluster", cluster_name)
    if add.returncode != 0:
        raise ComputeError(f"sacctmgr add cluster {cluster_name} failed: {add.stderr.strip()}")
    # Without AccountingStorageEnforce, a user with associations who asks for another account
    # is silently moved to its default one; a user without any keeps the account asked for.
    # Root (the tests, the scheduler) submits under every allocation's account: no associations.
    _sacctmgr(env, "-i", "delete", "user", "root")


def _sacctmgr(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sacctmgr", *args], env=dict(env), capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
