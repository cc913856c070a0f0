"""Per-scheduler defaults and job commands, read from the shipped ``schedulers.yaml``.

One small section per scheduler (as dask-jobqueue's ``jobqueue.yaml``); code stays generic.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import yaml

from genesis_lab.errors import ComputeError

__all__ = ["list_jobs_command", "scheduler_config", "walltime_for"]

_FILE = Path(__file__).with_name("schedulers.yaml")


@functools.cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(_FILE.read_text())


def scheduler_config(name: str) -> dict[str, Any]:
    """The merged ``common`` + ``name`` section of ``schedulers.yaml``.

    >>> scheduler_config("slurm")["cancel_jobs"]
    ['scancel']
    """
    data = _load()
    if name not in data or name == "common":
        known = ", ".join(k for k in data if k != "common")
        raise ComputeError(f"No batch scheduler {name!r}; known: {known}, or 'local'.")
    return {**data["common"], **data[name]}


def import_object(path: str) -> Any:
    """The object at ``"package.module.Name"``."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        from genesis_lab.errors import MissingDependencyError

        raise MissingDependencyError(
            "dask-jobqueue", "hpc", "start batch-scheduler clusters"
        ) from exc


def walltime_for(name: str, seconds: int) -> str:
    """A walltime in the format the scheduler expects.

    >>> walltime_for("slurm", 5400), walltime_for("lsf", 5400)
    ('01:30:00', '01:30')
    """
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if scheduler_config(name)["walltime_format"] == "HH:MM":
        return f"{h:02d}:{m + (1 if s else 0):02d}"
    return f"{h:02d}:{m:02d}:{s:02d}"


def list_jobs_command(name: str, job_name: str) -> list[str]:
    """The command that prints the ids of the jobs called ``job_name``, one a line.

    >>> list_jobs_command("slurm", "gl-x")[:4]
    ['squeue', '--noheader', '--name', 'gl-x']
    """
    return [a.replace("{name}", job_name) for a in scheduler_config(name)["list_jobs_by_name"]]
