"""The one way genesis-lab runs a batch-scheduler command: an argument list, no shell.

A failure raises :class:`~genesis_lab.errors.SchedulerError` with command, exit code and output.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from genesis_lab.errors import SchedulerError

__all__ = [
    "end_with_parent",
    "in_daemon_thread",
    "pid_alive",
    "process_argv",
    "process_started",
    "run_command",
    "same_process",
]


def run_command(
    args: Sequence[str],
    *,
    timeout: float = 60.0,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (no shell) and return the completed process with text output.

    Raises :class:`SchedulerError` when the program is missing, times out, or (with ``check``)
    exits non-zero; the error carries ``command``, ``returncode``, ``stdout`` and ``stderr``.

    >>> run_command(["echo", "hello"]).stdout
    'hello\\n'
    """
    args = [str(a) for a in args]
    if not args:
        raise ValueError("run_command needs a program to run")
    if shutil.which(args[0]) is None:
        raise SchedulerError(
            f"The command {args[0]!r} is not installed or not on PATH.",
            command=args,
        )
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            input=input,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SchedulerError(
            f"{' '.join(args)} did not finish within {timeout:g} s.",
            command=args,
            stdout=_text(exc.stdout),
            stderr=_text(exc.stderr),
        ) from None
    if check and proc.returncode != 0:
        raise SchedulerError(
            f"{args[0]} failed with exit code {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()[:500]} (command: {' '.join(args)[:300]})",
            command=args,
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
        )
    return proc


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (also when it belongs to another account).

    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_started(pid: int) -> float:
    """When process ``pid`` started (epoch seconds, as psutil tells it); 0.0 when no such process
    runs: none, or one that exited and waits for its parent to reap it.

    >>> process_started(os.getpid()) > 0, process_started(0)
    (True, 0.0)
    """
    import psutil

    if pid <= 0:
        return 0.0
    try:
        proc = psutil.Process(pid)
        return 0.0 if proc.status() == psutil.STATUS_ZOMBIE else proc.create_time()
    except psutil.Error:
        return 0.0


def same_process(pid: int, started: float) -> bool:
    """Whether ``pid`` still runs the process that started at ``started``
    (:func:`process_started`): Linux hands a pid out again once its process is gone (pid_max is
    32768 on many machines), so a pid kept alone may name a stranger.

    >>> same_process(os.getpid(), process_started(os.getpid())), same_process(os.getpid(), 1.0)
    (True, False)
    """
    found = process_started(pid)
    return found > 0 and abs(found - started) < 1.0


def process_argv(pid: int) -> list[str]:
    """The arguments process ``pid`` runs with ([] when it is gone or not readable).

    >>> "python" in " ".join(process_argv(os.getpid())).lower()
    True
    """
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


async def in_daemon_thread(
    fn: Callable[..., Any], *args: Any, name: str = "genesis-command"
) -> Any:
    """``await fn(*args)`` run in a daemon thread: a process told to stop does not wait for it.

    ``asyncio.to_thread`` uses the default executor, whose threads the interpreter joins at exit:
    a scheduler command that hangs (its controller down, a DNS lookup of it timing out) would
    hold the hub's or the service's shutdown for up to the command's timeout. Use it for calls
    whose result is only wanted while the process lives, and whose writes are each whole.

    >>> asyncio.run(in_daemon_thread(sum, [1, 2, 3]))
    6
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(failed: bool, value: Any) -> None:
        if not done.done():
            done.set_exception(value) if failed else done.set_result(value)

    def work() -> None:
        try:
            outcome = (False, fn(*args))
        except BaseException as exc:
            outcome = (True, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is stopping
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await done


PR_SET_PDEATHSIG = 1


def end_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A function asking Linux to send ``sig`` to the calling process when its parent dies: a
    ``preexec_fn`` for a child, or called at once by a process for itself.

    libc is loaded here, before any fork, so a child only makes one system call. A process that
    changes its user afterwards loses the setting (Linux clears it): call it after.

    >>> subprocess.run(["true"], preexec_fn=end_with_parent()).returncode
    0
    """
    libc = ctypes.CDLL(None, use_errno=True)
    return lambda: libc.prctl(PR_SET_PDEATHSIG, sig)
