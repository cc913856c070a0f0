"""The results store: ``<results_root>/<challenge>/<run-id>/`` holding one finished run each.

A run is written into a hidden ``.tmp-<run-id>`` folder and renamed into place as the last step,
so a folder without a leading dot is always a complete record (completed or failed), never partial.

One store per site, shared by every Unix account: the root folder belongs to root (0755) and each
challenge's folder is sticky and writable by all (1777, like ``/tmp``; made by
:func:`prepare_site_store`, which the hub-managed scheduler runs as root), so each run folder
belongs to the account that ran it and nobody can remove or replace another's. Run folders are
0755 (``pipelines.results_readable: site``, the default) or 0700 (``owner``: only the owner and
root read them). Cache keys are kept per account (``.keys/<uid>/``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis_lab.compute.commands import pid_alive
from genesis_lab.errors import PipelineError
from genesis_lab.fileio import atomic_write_text

__all__ = ["ResultsStore", "RunRecord", "prepare_site_store", "write_json_atomic"]

STATUS_FILE = "status.json"
NOTEBOOK_FILE = "notebook.ipynb"
METRICS_FILE = "metrics.json"
CRATE_FILE = "ro-crate-metadata.json"


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` (mode 0644) through a temporary file in the same folder."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=str), mode=0o644)


@dataclass(frozen=True)
class RunRecord:
    """One stored run: its folder and its ``status.json``."""

    path: Path
    status: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def challenge(self) -> str:
        return self.status["challenge"]

    @property
    def state(self) -> str:
        """``completed`` or ``failed``."""
        return self.status["status"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.status.get("metrics", {})

    @property
    def parameters(self) -> dict[str, Any]:
        return self.status.get("parameters", {})

    @property
    def notebook(self) -> Path:
        return self.path / NOTEBOOK_FILE

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "path": str(self.path), **self.status}

    def to_html(self, *, cached: bool | None = None) -> str:
        """The run as a small HTML card: status, parameters, metrics, where it is stored."""
        from genesis_lab.catalog.html_view import html_card

        st = self.status
        rows: list[tuple[str, object]] = [("status", self.state)]
        if cached is not None:
            rows.append(("from the cache", "yes" if cached else "no"))
        rows.extend((f"metric {k}", _short(v)) for k, v in self.metrics.items())
        rows.extend((f"parameter {k}", _short(v)) for k, v in self.parameters.items())
        err = st.get("error")
        if err:
            rows.append(
                ("error", f"cell {err.get('cell')}: {err.get('ename')}: {err.get('evalue')}")
            )
        rows += [("started", st.get("start", "")), ("ended", st.get("end", "")),
                 ("folder", str(self.path))]  # fmt: skip
        return html_card(f"Run {self.run_id}", rows, subtitle=f"challenge {self.challenge}")

    def _repr_html_(self) -> str:
        return self.to_html()


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


SHARED_MODE = 0o1777


def prepare_site_store(root: Path, challenges: list[str]) -> list[Path]:
    """As root: ``root`` 0755 and one sticky, world-writable folder per challenge (made or fixed).

    Returns the folders it made or changed. Without root it changes nothing.

    >>> prepare_site_store(Path("/tmp/gl-doc-store"), ["demo"]) if os.geteuid() else []
    []
    """
    if os.geteuid() != 0:
        return []
    root = Path(root)
    changed = []
    if not root.is_dir():
        root.mkdir(parents=True, mode=0o755)
        changed.append(root)
    for name in challenges:
        folder = root / name
        try:
            st = folder.lstat()
        except FileNotFoundError:
            folder.mkdir()
            st = folder.lstat()
        if not stat.S_ISDIR(st.st_mode):
            continue  # never follow or replace what is there: readers skip it
        if st.st_uid != 0 or stat.S_IMODE(st.st_mode) != SHARED_MODE:
            os.chown(folder, 0, 0, follow_symlinks=False)
            os.chmod(folder, SHARED_MODE)
            changed.append(folder)
    return changed


def _unwritable(folder: Path, exc: OSError) -> PipelineError:
    return PipelineError(
        f"Cannot write run results into {folder} ({exc.strerror}). The site's results store "
        f"needs one folder per challenge that every account may add to: as root, run "
        f"`chmod 1777 {folder}` (the hub-managed scheduler does this for every challenge at "
        "start), or set GENESIS_RESULTS_ROOT to a folder you can write."
    )


class ResultsStore:
    """Runs of every challenge under ``root``.

    >>> from pathlib import Path
    >>> store = ResultsStore(Path("/tmp/gl-results-doctest"))
    >>> store.runs("reactor-period")
    []
    """

    def __init__(self, root: Path, *, readable: str = "site"):
        self.root = Path(root)
        self.run_mode = 0o700 if readable == "owner" else 0o755

    def folder(self, challenge: str) -> Path:
        return self.root / challenge

    def _keys(self, challenge: str) -> Path:
        return self.folder(challenge) / ".keys" / str(os.getuid())

    @staticmethod
    def new_run_id(key: str) -> str:
        """Sortable id: UTC time to the microsecond, then a piece of the cache key and a nonce."""
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{now}-{key[:8]}{secrets.token_hex(2)}"

    def begin(self, challenge: str, run_id: str) -> Path:
        """Create the hidden working folder of a run (and clear those of dead runners)."""
        folder = self.folder(challenge)
        try:
            if not folder.is_dir():
                folder.mkdir(parents=True)
                if self.root.stat().st_mode & stat.S_ISVTX:
                    os.chmod(folder, SHARED_MODE)  # a shared store: others add their runs too
            self._clear_stale(folder)
            work = folder / f".tmp-{run_id}"
            work.mkdir(mode=0o700)
            (work / ".pid").write_text(str(os.getpid()))
        except PermissionError as exc:
            raise _unwritable(folder, exc) from None
        return work

    def _clear_stale(self, folder: Path) -> None:
        for work in folder.glob(".tmp-*"):
            try:
                pid = int((work / ".pid").read_text())
            except (OSError, ValueError):
                pid = 0
            if pid and pid_alive(pid):
                continue
            if work.lstat().st_uid == os.getuid():  # another account's leftovers are theirs
                shutil.rmtree(work, ignore_errors=True)

    def commit(self, work: Path, status: dict[str, Any]) -> RunRecord:
        """Write ``status.json`` last, then rename the working folder into place (atomic)."""
        (work / ".pid").unlink(missing_ok=True)
        write_json_atomic(work / STATUS_FILE, status)
        os.chmod(work, self.run_mode)
        final = work.parent / work.name.removeprefix(".tmp-")
        os.rename(work, final)
        record = RunRecord(final, status)
        if status["status"] == "completed":
            keys = self._keys(record.challenge)
            try:
                if not keys.parent.is_dir():
                    keys.parent.mkdir()
                    os.chmod(keys.parent, SHARED_MODE)
                keys.mkdir(mode=0o755, exist_ok=True)
                write_json_atomic(keys / status["cache_key"], {"run_id": final.name})
            except PermissionError:
                pass  # the run is stored; only the cache shortcut to it is missing
        return record

    def load(self, path: Path) -> RunRecord | None:
        """The run stored at ``path``, or ``None`` if it is not a complete record."""
        if path.name.startswith(".") or not path.is_dir():
            return None
        try:
            status = json.loads((path / STATUS_FILE).read_text())
        except (OSError, ValueError):
            return None
        return RunRecord(path, status)

    def lookup(self, challenge: str, key: str) -> RunRecord | None:
        """The completed run with cache key ``key``, if one is stored."""
        try:
            run_id = json.loads((self._keys(challenge) / key).read_text())["run_id"]
        except (OSError, ValueError, KeyError):
            return None
        record = self.load(self.folder(challenge) / run_id)
        if record is None or record.state != "completed" or record.status.get("cache_key") != key:
            return None
        return record

    def runs(self, challenge: str) -> list[RunRecord]:
        """Every stored run of ``challenge``, oldest first."""
        folder = self.folder(challenge)
        if not folder.is_dir():
            return []
        records = (self.load(p) for p in sorted(folder.iterdir()))
        return [r for r in records if r is not None]

    def find(self, run_id: str) -> RunRecord:
        """The run ``run_id`` of any challenge (or a path to a run folder)."""
        as_path = Path(run_id)
        if as_path.is_dir() and (record := self.load(as_path.resolve())):
            return record
        if self.root.is_dir() and "/" not in run_id and not run_id.startswith("."):
            for folder in sorted(self.root.iterdir()):
                record = self.load(folder / run_id)
                if record is not None:
                    return record
        raise PipelineError(
            f"No stored run {run_id!r} under {self.root}. "
            "Run `genesis-lab challenge results ID` to see the run ids of a challenge."
        )
