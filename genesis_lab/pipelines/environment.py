"""The software environment a run's kernel executed in: interpreter, platform and every package.

The kernel is a separate interpreter (named by its kernelspec), so it is asked directly: a short
probe run with that interpreter lists its distributions through ``importlib.metadata``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from genesis_lab.errors import PipelineError

__all__ = ["interpreter_environment", "kernel_environment", "kernel_python"]

_PROBE = r"""
import importlib.metadata as md, json, platform, sys
packages = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    if name and name not in packages:
        packages[name] = {"version": dist.version, "local": dist.read_text("direct_url.json") is not None}
print(json.dumps({
    "python": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "platform": platform.platform(),
    "system": platform.system(),
    "machine": platform.machine(),
    "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
}))
"""


def kernel_python(kernel: str, env: Mapping[str, str] | None = None) -> str:
    """The interpreter that kernelspec ``kernel`` starts (its ``argv[0]``, found on ``PATH``).

    >>> import sys
    >>> kernel_python("python3") == sys.executable or kernel_python("python3").endswith("python")
    True
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv0 = KernelSpecManager().get_kernel_spec(kernel).argv[0]
    except NoSuchKernel:
        raise PipelineError(
            f"kernel {kernel!r} (challenge.yaml 'kernel') is not installed; "
            "`jupyter kernelspec list` shows the installed kernels"
        ) from None
    # jupyter_client starts a kernel whose argv[0] is a bare "python" with its own interpreter
    if argv0 in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}:
        return sys.executable
    found = shutil.which(argv0, path=(env or os.environ).get("PATH"))
    return found or argv0


def kernel_environment(kernel: str = "python3", env: Mapping[str, str] | None = None) -> dict:
    """Interpreter, platform and installed packages of the kernel ``kernel``.

    ``packages`` maps each distribution name to ``{"version", "local"}`` (``local``: installed
    from a path or VCS checkout rather than an index).

    >>> info = kernel_environment()
    >>> "papermill" in info["packages"] and info["python"].count(".") == 2
    True
    """
    info = interpreter_environment(kernel_python(kernel, env), env)
    info["kernel"] = kernel
    return info


def interpreter_environment(python: str, env: Mapping[str, str] | None = None) -> dict:
    """Interpreter, platform and installed packages of the Python at ``python``.

    >>> import sys
    >>> interpreter_environment(sys.executable)["executable"] == sys.executable
    True
    """
    try:
        done = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PipelineError(f"could not list the packages of {python}: {exc}") from None
    if done.returncode != 0:
        raise PipelineError(
            f"could not list the packages of {python}: exit code {done.returncode}: "
            f"{done.stderr.strip()[-500:]}"
        )
    info: dict[str, Any] = json.loads(done.stdout)
    info.setdefault("kernel", None)
    return info
