"""The runner: validate parameters, look up the cache, execute with papermill, store the run.

The cache key covers the notebook's bytes, the parameters, the inputs' versions and sha256 (for an
unpinned local dataset, the digest of what is there now: :func:`unpinned_data`), the package
versions and the code of the simulators and dataset loaders used (:func:`code_identity`).
A run executes into a hidden working folder of the results store; the executed notebook, metrics,
RO-Crate and ``status.json`` are written there and the folder is renamed into place last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.errors import PipelineError, RunFailedError
from genesis_lab.pipelines.challenge import Challenge, get_challenge
from genesis_lab.pipelines.crate import build_crate
from genesis_lab.pipelines.metrics import read_metrics
from genesis_lab.pipelines.provenance import cache_key, input_versions, package_versions
from genesis_lab.pipelines.store import (
    CRATE_FILE,
    METRICS_FILE,
    NOTEBOOK_FILE,
    ResultsStore,
    RunRecord,
    write_json_atomic,
)
from genesis_lab.settings import Settings, get_settings

__all__ = ["Execution", "RunResult", "execute", "prepare", "run"]


@dataclass(frozen=True)
class RunResult:
    """A stored run and whether it came from the cache."""

    record: RunRecord
    cached: bool

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def path(self) -> Path:
        return self.record.path

    @property
    def metrics(self) -> dict[str, Any]:
        return self.record.metrics

    @property
    def status(self) -> str:
        return self.record.state

    def _repr_html_(self) -> str:
        return self.record.to_html(cached=self.cached)


@dataclass(frozen=True)
class Prepared:
    """A validated request: challenge, parameter values, inputs, packages, code and cache key."""

    challenge: Challenge
    parameters: dict[str, Any]
    inputs: list[dict[str, Any]]
    packages: dict[str, str]
    notebook_sha256: str
    key: str
    code: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Execution:
    """What one execution produced in its folder."""

    status: str
    start: str
    end: str
    metrics: dict[str, Any]
    error: dict[str, Any] | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def code_identity(challenge: Challenge) -> list[dict[str, str]]:
    """The code of the simulators and dataset loaders the challenge uses, as the kernel will
    import it: distribution, version and a digest of the source (see ``code_fingerprint``).

    >>> [c["id"] for c in code_identity(get_challenge("reactor-period"))]  # doctest: +SKIP
    ['nuclear-energy/point-kinetics']
    """
    if not (challenge.simulators or challenge.datasets):
        return []
    from genesis_lab.catalog import get_catalog, load_plugin
    from genesis_lab.simulators.fingerprint import code_fingerprint

    cat = get_catalog()
    out = []
    for kind, ids in (("simulator", challenge.simulators), ("dataset", challenge.datasets)):
        for asset_id in ids:
            entry = cat.get(asset_id)
            if not entry.loader:
                continue  # a site file opened by genesis-lab's own readers (package version)
            out.append({"id": asset_id, **code_fingerprint(load_plugin(kind, entry.loader))})
    return out


def unpinned_data(challenge: Challenge) -> list[dict[str, str]]:
    """Digests of the local files of datasets whose catalog entry pins no sha256.

    A pinned dataset is in the key through its pin (a changed file is refused on open); an
    unpinned one through what is there now: a file's bytes, a zarr store's consolidated metadata.
    Remote unpinned data is named by URL only.
    """
    if not challenge.datasets:
        return []
    from genesis_lab.catalog import get_catalog
    from genesis_lab.data.checksum import sha256_file, sha256_zarr
    from genesis_lab.data.files import resolve_location
    from genesis_lab.data.remote import is_remote

    cat = get_catalog()
    out = []
    for asset_id in challenge.datasets:
        entry = cat.get(asset_id)
        url = next((d.download_url for d in entry.distribution if d.download_url), None)
        if entry.provenance.sha256 is not None or url is None:
            continue
        location = resolve_location(url)
        path = Path(location)
        if is_remote(location) or not path.exists():
            digest = ""
        elif path.is_dir():
            digest = sha256_zarr(path)
        else:
            digest = sha256_file(path)
        out.append({"id": asset_id, "location": location, "sha256": digest})
    return out


def prepare(
    challenge: str | Challenge,
    parameters: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    **params: Any,
) -> Prepared:
    """Validate parameters and compute the cache key, without starting any kernel.

    >>> prepare("reactor-period", rho_pcm=150).parameters  # doctest: +SKIP
    {'rho_pcm': 150.0, ...}
    """
    ch = challenge if isinstance(challenge, Challenge) else get_challenge(challenge, settings)
    values = ch.validate_parameters({**(parameters or {}), **params})
    inputs = input_versions(ch)
    packages = package_versions(ch.packages)
    code = code_identity(ch)
    data = unpinned_data(ch)
    source = ch.notebook_path.read_bytes()
    keyed = [*inputs, *({"code": c} for c in code), *({"data": d} for d in data)]
    return Prepared(
        ch,
        values,
        inputs,
        packages,
        hashlib.sha256(source).hexdigest(),
        cache_key(source, values, keyed, packages),
        code,
    )


def _kernel_env(metrics_file: Path, extra: Mapping[str, str]) -> dict[str, str]:
    # The kernel is a child process: it inherits this process's GENESIS_* configuration, plus the
    # metrics file this run reads back (settings.metrics_file inside the kernel).
    env = dict(os.environ)
    env.update(extra)
    env["GENESIS_METRICS_FILE"] = str(metrics_file)
    return env


def execute(
    prep: Prepared,
    folder: Path,
    *,
    start_timeout: int,
    env: Mapping[str, str] | None = None,
) -> Execution:
    """Execute the challenge notebook with papermill's ``genesis`` engine into ``folder``; a
    kernel that does not answer within ``start_timeout`` seconds (the site's
    ``pipelines.kernel_start_timeout``) fails the run.

    Writes ``notebook.ipynb`` (executed, with papermill metadata) and ``metrics.json``.
    """
    import papermill
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError

    from genesis_lab.pipelines.engine import GenesisEngine

    # The entry point registers it when genesis-lab is installed; an editable checkout may not be.
    papermill_engines.register("genesis", GenesisEngine)
    ch = prep.challenge
    metrics_file = folder / METRICS_FILE
    notebook = folder / NOTEBOOK_FILE
    start = _now()
    error: dict[str, Any] | None = None
    try:
        papermill.execute_notebook(
            str(ch.notebook_path),
            str(notebook),
            parameters=prep.parameters,
            engine_name="genesis",
            kernel_name=ch.kernel,
            progress_bar=False,
            request_save_on_cell_execute=False,
            cwd=str(folder),
            execution_timeout=ch.timeout,
            start_timeout=start_timeout,
            kernel_env=_kernel_env(metrics_file, env or {}),
            # Outputs and metrics are complete once the last cell replied: stop the kernel
            # at once instead of waiting for its graceful exit.
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        error = {"cell": exc.cell_index, "ename": exc.ename, "evalue": exc.evalue}
    except Exception as exc:  # kernel died, timed out, or could not start: record, do not hide
        error = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    end = _now()
    metrics = read_metrics(metrics_file)
    if error is None:
        missing = [m for m in ch.metrics if m not in metrics]
        if missing:
            error = {
                "cell": None,
                "ename": "MissingMetrics",
                "evalue": f"the notebook did not record {', '.join(missing)} "
                "with genesis_lab.record_metrics(...)",
            }
    if not notebook.exists():
        shutil.copyfile(ch.notebook_path, notebook)
    write_json_atomic(metrics_file, metrics)
    return Execution("failed" if error else "completed", start, end, metrics, error)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(
    challenge_id: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    force: bool = False,
    cluster: bool = False,
    allocation: str | None = None,
    settings: Settings | None = None,
    **params: Any,
) -> RunResult:
    """Run challenge ``challenge_id`` with ``params``; a stored identical run is returned instead.

    Parameters are checked against ``challenge.yaml`` before any kernel starts. With ``cluster``
    the kernel is bound to ``allocation`` (default: the session's) so ``compute.cluster()``
    inside the notebook charges it. A failed run is stored as failed and raises
    :class:`RunFailedError` with the cell and error.

    >>> import genesis_lab.pipelines as pl
    >>> result = pl.run("reactor-period", rho_pcm=150)  # doctest: +SKIP
    >>> result.metrics  # doctest: +SKIP
    """
    settings = settings or get_settings()
    prep = prepare(challenge_id, parameters, settings=settings, **params)
    ch = prep.challenge
    env: dict[str, str] = {}
    alloc_id = None
    if cluster:
        from genesis_lab.compute.allocations import (
            check_allocation,
            get_allocation,
            session_environment,
        )

        alloc = get_allocation(allocation)
        if alloc is None:
            raise PipelineError(
                "--cluster needs an allocation: start the session with one, set "
                "GENESIS_ALLOCATION, or pass --allocation ID."
            )
        check_allocation(alloc, settings.user)
        env = session_environment(alloc)
        alloc_id = alloc.id
    store = ResultsStore(settings.results_root, readable=settings.pipelines.results_readable)
    if not force and (hit := store.lookup(ch.id, prep.key)) is not None:
        return RunResult(hit, cached=True)
    run_id = store.new_run_id(prep.key)
    work = store.begin(ch.id, run_id)
    shutil.copyfile(ch.notebook_path, work / "source.ipynb")
    result = execute(prep, work, env=env, start_timeout=settings.pipelines.kernel_start_timeout)
    files = {name: _sha256(work / name) for name in ("source.ipynb", NOTEBOOK_FILE, METRICS_FILE)}
    crate = build_crate(
        ch,
        run_id=run_id,
        parameters=prep.parameters,
        inputs=prep.inputs,
        packages=prep.packages,
        start=result.start,
        end=result.end,
        status=result.status,
        owner=settings.user,
        source_sha256=prep.notebook_sha256,
        files=files,
        error=result.error,
        metrics=result.metrics,
    )
    write_json_atomic(work / CRATE_FILE, crate)
    status = {
        "challenge": ch.id,
        "catalog_id": ch.catalog_id,
        "status": result.status,
        "cache_key": prep.key,
        "parameters": prep.parameters,
        "metrics": result.metrics,
        "inputs": prep.inputs,
        "packages": prep.packages,
        "code": prep.code,
        "notebook_sha256": prep.notebook_sha256,
        "start": result.start,
        "end": result.end,
        "owner": settings.user,
        "allocation": alloc_id,
        "error": result.error,
    }
    record = store.commit(work, status)
    if result.error:
        err = result.error
        where = f"cell {err['cell']}" if err["cell"] is not None else "the run"
        raise RunFailedError(
            f"Run {record.run_id} of challenge {ch.id!r} failed in {where}: "
            f"{err['ename']}: {err['evalue']}. The executed notebook is {record.notebook}.",
            run_id=record.run_id,
            cell=err["cell"],
            ename=err["ename"],
            evalue=err["evalue"],
        )
    return RunResult(record, cached=False)


def describe(result: RunResult) -> dict[str, Any]:
    """JSON-ready summary of a run result (CLI ``--json``)."""
    return {"cached": result.cached, **result.record.as_dict()}
