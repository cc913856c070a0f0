"""The ``genesis`` papermill engine: papermill's nbclient engine that writes the notebook once.

Stock papermill rewrites the whole output notebook around every cell; this engine keeps papermill's
parameters cell, metadata and error handling, writes only at the end, and can set the kernel's env.
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger

__all__ = ["GenesisEngine"]


class GenesisEngine(NBClientEngine):
    """Execute with nbclient; the notebook is written by papermill once, after the last cell.

    Registered as the papermill engine ``genesis`` (entry point ``papermill.engine``):

    >>> import papermill as pm
    >>> pm.execute_notebook("in.ipynb", "out.ipynb", engine_name="genesis")  # doctest: +SKIP
    """

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        # output_path=None stops the per-cell saves; papermill.execute_notebook still writes the
        # finished (or failed) notebook to its output path.
        return super().execute_notebook(
            nb,
            kernel_name,
            output_path=None,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=0,
            **kwargs,
        )

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: float | None = None,
        kernel_env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("input_path", None)
        kwargs.pop("startup_timeout", None)
        timeout = execution_timeout or kwargs.pop("timeout", None)
        kwargs.pop("timeout", None)
        client = PapermillNotebookClient(
            nb_man,
            timeout=timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        return client.execute(**({"env": kernel_env} if kernel_env is not None else {}))
