"""The cluster factory: a dask-jobqueue cluster charging the session's allocation, or a LocalCluster.

Clusters close at interpreter exit, and a watchdog cancels their jobs if the kernel is killed.
"""

from __future__ import annotations

import atexit
import functools
import math
import os
import signal
import subprocess
import sys
import weakref
from typing import Any

from genesis_lab.compute.allocations import (
    Allocation,
    check_allocation,
    get_allocation,
    parse_memory,
    parse_walltime,
)
from genesis_lab.compute.jobnames import session_job_id, worker_job_name
from genesis_lab.compute.schedulers import import_object, scheduler_config, walltime_for
from genesis_lab.errors import AllocationError, ComputeError, SchedulerError

__all__ = [
    "check_versions",
    "cluster",
    "cluster_status",
    "connect",
    "detect_interface",
    "job_script",
]

_JOB_OVERRIDES = {
    "cores", "memory", "processes", "walltime", "interface", "python", "local_directory",
    "log_directory", "job_script_prologue", "job_extra_directives", "death_timeout",
}  # fmt: skip
_CLUSTER_OVERRIDES = {"jobs", "asynchronous", "allocation", "user"}
_LOCAL_OVERRIDES = {
    "n_workers", "threads_per_worker", "processes", "memory_limit", "asynchronous",
    "allocation", "user",
}  # fmt: skip
_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()


def _resolve(allocation: Allocation | str | None) -> Allocation | None:
    if isinstance(allocation, Allocation):
        return allocation
    return get_allocation(allocation)


def _user(overrides: dict[str, Any]) -> str:
    from genesis_lab.settings import get_settings

    return overrides.pop("user", None) or get_settings().user


def _reject_unknown(overrides: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ComputeError(
            f"cluster() does not take {', '.join(map(repr, unknown))} for {what}; "
            f"allowed: {', '.join(sorted(allowed))}. Account and queue come from the allocation."
        )


def detect_interface(allocation: Allocation) -> str | None:
    """The interface this host reaches the allocation's compute nodes on (None if unknown).

    >>> detect_interface(Allocation(id="x", scheduler="local")) is None
    True
    """
    if allocation.interface:
        return allocation.interface
    if allocation.scheduler == "local":
        return None
    from genesis_lab.compute.commands import run_command
    from genesis_lab.compute.network import interface_for_address

    command = scheduler_config(allocation.scheduler).get("node_addresses")
    if not command:
        return None
    try:
        out = run_command(command, timeout=10).stdout
    except SchedulerError:
        return None
    for addr in dict.fromkeys(line.strip() for line in out.splitlines() if line.strip()):
        iface = interface_for_address(addr)
        if iface is not None:
            return iface.name
    return None


def _job_log_dir() -> str:
    from genesis_lab.settings import get_settings

    state_dir = get_settings().state_dir
    assert state_dir is not None
    return str(state_dir / "job-logs")


def lifetime_args(walltime_seconds: int, conf: dict[str, Any]) -> list[str]:
    """``--lifetime``/``--lifetime-stagger`` so workers leave before the job's walltime ends.

    >>> lifetime_args(3600, {"lifetime_margin_fraction": 0.1, "lifetime_margin_min": 60})
    ['--lifetime', '3240s', '--lifetime-stagger', '180s']
    """
    margin = max(
        float(conf["lifetime_margin_min"]), conf["lifetime_margin_fraction"] * walltime_seconds
    )
    margin = min(margin, walltime_seconds / 2)
    lifetime = int(walltime_seconds - margin)
    stagger = int(margin / 2)
    args = ["--lifetime", f"{lifetime}s", "--lifetime-stagger", f"{stagger}s"]
    if conf.get("lifetime_restart"):
        args.append("--lifetime-restart")
    return args


def _job_kwargs(alloc: Allocation, user: str, overrides: dict[str, Any]) -> dict[str, Any]:
    conf = scheduler_config(alloc.scheduler)
    cores = int(overrides.pop("cores", alloc.cores))
    memory = overrides.pop("memory", alloc.memory)
    walltime = overrides.pop("walltime", alloc.walltime)
    processes = int(overrides.pop("processes", min(alloc.processes, cores)))
    check_allocation(alloc, user, cores=cores, memory=memory, walltime=walltime)
    seconds = parse_walltime(walltime)
    interface = overrides.pop("interface", None) or detect_interface(alloc)
    extra = list(alloc.job_extra_directives) + list(overrides.pop("job_extra_directives", []))
    kwargs: dict[str, Any] = {
        "cores": cores,
        "memory": f"{parse_memory(memory)}B" if isinstance(memory, int) else memory,
        "processes": processes,
        "walltime": walltime_for(alloc.scheduler, seconds),
        conf["account_key"]: alloc.account,
        conf["queue_key"]: alloc.queue,
        "interface": interface,
        "job_name": worker_job_name(alloc.id, session_job_id()),
        "worker_extra_args": lifetime_args(seconds, conf),
        "job_extra_directives": extra,
        "death_timeout": overrides.pop("death_timeout", conf["death_timeout"]),
        # the scheduler's job logs go to the state dir, not into the notebook's folder
        "log_directory": str(overrides.pop("log_directory", None) or _job_log_dir()),
    }
    kwargs.update(overrides)
    return kwargs


def job_script(allocation: Allocation | str | None = None, **overrides: Any) -> str:
    """The exact batch script ``cluster()`` would submit, without starting anything.

    >>> a = Allocation(id="demo", account="p1", scheduler="slurm", queue="debug",
    ...                walltime="00:20:00", interface="lo")
    >>> print(job_script(a, user="alice"))  # doctest: +ELLIPSIS
    #!/usr/bin/env bash
    <BLANKLINE>
    #SBATCH -J gl-demo-...
    #SBATCH -p debug
    #SBATCH -A p1
    ...
    """
    overrides = dict(overrides)
    alloc = _resolve(allocation or overrides.pop("allocation", None))
    user = _user(overrides)
    if alloc is None or alloc.scheduler == "local":
        what = "no allocation" if alloc is None else f"allocation {alloc.id!r} is local"
        raise ComputeError(
            f"There is no batch script to preview: {what}, so cluster() starts a LocalCluster."
        )
    _reject_unknown(overrides, _JOB_OVERRIDES | {"user"}, alloc.id)
    kwargs = _job_kwargs(alloc, user, overrides)
    job_cls = import_object(scheduler_config(alloc.scheduler)["job_class"])
    return job_cls(
        scheduler="tcp://<scheduler-address>:8786", name="<worker-name>", **kwargs
    ).job_script()


@functools.cache
def _cluster_class(scheduler: str) -> type:
    base = import_object(scheduler_config(scheduler)["cluster_class"])
    return type(f"Genesis{base.__name__}", (_AllocationCluster, base), {"__module__": __name__})


class _AllocationCluster:
    """Mixed into a dask-jobqueue cluster: caps jobs at the allocation's, owns the watchdog."""

    allocation: Allocation
    genesis_job_name: str
    _watchdog: subprocess.Popen[bytes] | None = None

    def scale(self, n: int | None = None, jobs: int = 0, memory: Any = None, cores: Any = None):
        wanted = jobs
        if n is not None:
            wanted = math.ceil(n / self._dummy_job.worker_processes)  # type: ignore[attr-defined]
        if wanted > self.allocation.max_jobs:
            raise AllocationError(
                f"Allocation {self.allocation.id!r} allows at most {self.allocation.max_jobs} "
                f"jobs per cluster; {wanted} were asked for."
            )
        return super().scale(n, jobs=jobs, memory=memory, cores=cores)  # type: ignore[misc]

    def adapt(
        self,
        *args: Any,
        minimum_jobs: int | None = None,
        maximum_jobs: int | None = None,
        **kw: Any,
    ):
        if maximum_jobs is None:
            maximum_jobs = self.allocation.max_jobs
        if maximum_jobs > self.allocation.max_jobs:
            raise AllocationError(
                f"Allocation {self.allocation.id!r} allows at most {self.allocation.max_jobs} "
                f"jobs per cluster; maximum_jobs={maximum_jobs} was asked for."
            )
        return super().adapt(*args, minimum_jobs=minimum_jobs, maximum_jobs=maximum_jobs, **kw)  # type: ignore[misc]

    async def _close(self) -> None:
        try:
            await super()._close()  # type: ignore[misc]
        finally:
            _stop_watchdog(self._watchdog, cancel=False)

    def get_client(self) -> Any:
        """A client of this cluster whose versions were checked (see :func:`connect`)."""
        return connect(self)


def _start_watchdog(
    scheduler: str, job_name: str, alloc: Allocation, user: str
) -> subprocess.Popen[bytes]:
    import psutil

    from genesis_lab.compute.ledger import get_ledger
    from genesis_lab.settings import get_settings

    me = psutil.Process()
    conf = scheduler_config(scheduler)
    settings = get_settings()
    # jobs the watchdog cancels are charged by it: through the service inside a hub session
    # (the site ledger is the service's), to this process's ledger file elsewhere
    ledger = ["--allocation", alloc.id, "--user", user]
    if not (settings.service_url and settings.hub_api_token):
        ledger += ["--ledger", str(get_ledger().path)]
    return subprocess.Popen(
        [
            sys.executable, "-m", "genesis_lab.compute.watchdog", "--pid", str(me.pid),
            "--started", repr(me.create_time()), "--scheduler", scheduler,
            "--job-name", job_name, "--poll", str(conf["watchdog_poll_seconds"]), *ledger,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a kill of the kernel's process group must not take it along
    )  # fmt: skip


def _stop_watchdog(proc: subprocess.Popen[bytes] | None, *, cancel: bool) -> None:
    """Stop the watchdog: SIGUSR2 = jobs already closed; SIGUSR1 = cancel them first."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGUSR1 if cancel else signal.SIGUSR2)
        proc.wait(timeout=30 if cancel else 5)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        proc.kill()
        proc.wait()


def cluster(**overrides: Any) -> Any:
    """A dask cluster for the session's allocation (``GENESIS_ALLOCATION``).

    SLURM, PBS or LSF allocations give a dask-jobqueue cluster with the allocation's account,
    queue and walltime, workers that leave before the walltime ends, its jobs charged to the
    usage ledger and cancelled even if this process is killed. A local or absent allocation
    gives a ``distributed.LocalCluster`` on 127.0.0.1. Refused (:class:`AllocationError`) when
    the user is not a member, the budget is spent or a request exceeds the allocation.

    Overrides: ``allocation`` (another id), ``cores``, ``memory``, ``processes``, ``walltime``,
    ``interface``, ``jobs`` (start this many at once), ``asynchronous``; for a LocalCluster
    ``n_workers``, ``threads_per_worker``, ``processes``, ``memory_limit``.

    >>> from genesis_lab.compute import cluster
    >>> with cluster(n_workers=1, processes=False) as c:  # no allocation: a LocalCluster
    ...     type(c).__name__
    'LocalCluster'
    """
    overrides = dict(overrides)
    alloc = _resolve(overrides.pop("allocation", None))
    if alloc is None or alloc.scheduler == "local":
        return _local_cluster(alloc, overrides)
    _reject_unknown(overrides, _JOB_OVERRIDES | _CLUSTER_OVERRIDES, alloc.id)
    user = _user(overrides)
    jobs = int(overrides.pop("jobs", 0))
    asynchronous = bool(overrides.pop("asynchronous", False))
    kwargs = _job_kwargs(alloc, user, overrides)
    conf = scheduler_config(alloc.scheduler)
    cls = _cluster_class(alloc.scheduler)
    plugin = _usage_plugin(alloc, user, conf.get("sacct"), kwargs["job_name"])
    c = cls(
        scheduler_options={"dashboard_address": conf["dashboard_address"], "plugins": [plugin]},
        asynchronous=asynchronous,
        **kwargs,
    )
    c.allocation = alloc
    c.genesis_job_name = kwargs["job_name"]
    c._watchdog = _start_watchdog(alloc.scheduler, kwargs["job_name"], alloc, user)
    # garbage-collected without close(): the watchdog cancels the jobs; at exit the atexit
    # hook below closes the cluster first, politely
    weakref.finalize(c, _stop_watchdog, c._watchdog, cancel=True).atexit = False
    plugin.job_id_of = _job_id_lookup(c)
    _LIVE.add(c)
    _close_on_sigterm()
    if jobs:
        c.scale(jobs=jobs)
    return c


def _job_id_lookup(c: Any) -> Any:
    ref = weakref.ref(c)

    def job_id_of(worker_name: str) -> str | None:
        owner = ref()
        if owner is None:
            return None
        for name in (worker_name, worker_name.rpartition("-")[0]):
            job = owner.workers.get(name)
            if job is not None and getattr(job, "job_id", None):
                return str(job.job_id)
        return None

    return job_id_of


def _usage_plugin(
    alloc: Allocation, user: str, sacct: list[str] | None, job_name: str | None = None
) -> Any:
    from genesis_lab.compute.usage import UsagePlugin
    from genesis_lab.compute.watchdog import running_jobs

    lookup = functools.partial(running_jobs, alloc.scheduler, job_name) if job_name else None
    return UsagePlugin(allocation=alloc.id, user=user, sacct=sacct, running_jobs=lookup)


def _local_cluster(alloc: Allocation | None, overrides: dict[str, Any]) -> Any:
    from distributed import LocalCluster

    _reject_unknown(overrides, _LOCAL_OVERRIDES, alloc.id if alloc else "a LocalCluster")
    user = _user(overrides)
    default_workers = alloc.cores if alloc else min(os.cpu_count() or 1, 4)
    n_workers = int(overrides.pop("n_workers", default_workers))
    threads = int(overrides.pop("threads_per_worker", 1))
    kwargs: dict[str, Any] = {
        "n_workers": n_workers,
        "threads_per_worker": threads,
        "processes": bool(overrides.pop("processes", True)),
        "asynchronous": bool(overrides.pop("asynchronous", False)),
        "dashboard_address": ":0",
    }
    if kwargs["processes"]:
        kwargs["host"] = "127.0.0.1"  # never the external interface (in-process: no sockets)
    if alloc is not None:
        check_allocation(alloc, user, cores=n_workers * threads)
        kwargs["memory_limit"] = overrides.pop(
            "memory_limit", max(alloc.memory_bytes // max(n_workers, 1), 2**27)
        )
        kwargs["scheduler_kwargs"] = {"plugins": [_usage_plugin(alloc, user, None)]}
    elif "memory_limit" in overrides:
        kwargs["memory_limit"] = overrides.pop("memory_limit")
    c = LocalCluster(**kwargs)
    _LIVE.add(c)
    return c


def check_versions(client: Any) -> dict[str, Any]:
    """Compare the client's, scheduler's and workers' package versions; raise on a mismatch.

    >>> from distributed import Client, LocalCluster
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as lc:
    ...     with Client(lc) as client:
    ...         "scheduler" in check_versions(client)
    True
    """
    try:
        return client.get_versions(check=True)
    except ValueError as exc:
        raise ComputeError(
            "The dask versions of this session, the scheduler and the workers differ; "
            "workers must run the same environment as the session (set python= or the "
            f"allocation's job_script_prologue).\n{exc}"
        ) from None


def connect(target: Any = None, *, timeout: float = 60.0) -> Any:
    """A ``distributed.Client`` of ``target`` (a cluster or an address), versions checked first.

    With no target, connects to a new :func:`cluster`.

    >>> from genesis_lab.compute import cluster, connect
    >>> with cluster(n_workers=1, processes=False) as c, connect(c) as client:
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    from distributed import Client

    client = Client(target if target is not None else cluster(), timeout=timeout)
    try:
        check_versions(client)
    except ComputeError:
        client.close()
        raise
    return client


def cluster_status(target: Any) -> dict[str, Any]:
    """Allocation, jobs and workers of a cluster (or a client), for widgets and the CLI.

    Workers are counted from the in-process scheduler, else from the totals ``n_workers``:
    since distributed 2026.7 ``scheduler_info()["workers"]`` is empty for asynchronous clients.

    >>> from genesis_lab.compute import cluster
    >>> with cluster(n_workers=1, processes=False) as c:
    ...     cluster_status(c)["workers"]
    1
    """
    from collections.abc import Mapping

    owner = getattr(target, "cluster", None) or target  # a Client knows its cluster
    sched = getattr(owner, "scheduler", None)
    if sched is not None and isinstance(getattr(sched, "workers", None), Mapping):
        workers, threads = len(sched.workers), int(sched.total_nthreads)
    else:
        info = target.scheduler_info() if callable(getattr(target, "scheduler_info", None)) else {}
        info = info or getattr(target, "scheduler_info", {}) or {}
        workers = int(info.get("n_workers", len(info.get("workers", {}))))
        threads = int(info.get("total_threads", 0))
    alloc = getattr(owner, "allocation", None)
    status: dict[str, Any] = {
        "allocation": alloc.id if alloc else None,
        "scheduler": alloc.scheduler if alloc else "local",
        "job_name": getattr(owner, "genesis_job_name", None),
        "jobs": len(getattr(owner, "workers", {}) or {}) if alloc else 0,
        "workers": workers,
        "threads": threads,
        "dashboard": getattr(owner, "dashboard_link", None),
    }
    if alloc is not None:
        from genesis_lab.compute.ledger import used_core_hours

        status["used_core_hours"] = used_core_hours(alloc.id)
        status["budget_core_hours"] = alloc.budget_core_hours
    return status


def _close_on_sigterm() -> None:
    """On SIGTERM (a session job cancelled by the batch system, which signals every process of
    the job, the kernel included) close this process's clusters first: their workers are charged
    by the usage plugin's close and their jobs cancelled; then die of the signal as before."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            _close_live_clusters()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


@atexit.register
def _close_live_clusters() -> None:
    """Close this process's clusters at exit (kernel shut down, script ended)."""
    for c in list(_LIVE):
        try:
            if not getattr(c, "asynchronous", False):
                c.close(timeout=20)
        except Exception:
            pass
        _stop_watchdog(getattr(c, "_watchdog", None), cancel=True)
