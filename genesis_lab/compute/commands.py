"""The one way genesis-lab runs a batch-scheduler command: an argument list, no shell.

A failure raises :class:`~genesis_lab.errors.SchedulerError` with command, exit code and output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from genesis_lab.errors import SchedulerError

__all__ = ["pid_alive", "run_command"]


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
