"""Per-notebook exercise results: one JSON file per notebook, written atomically.

Inside a delivered course folder (``~/courses/<course>/`` with a ``.genesis-course.json`` marker)
results go to the learner's folder of the course storage; elsewhere to ``state_dir/training``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from genesis_lab.fileio import atomic_write_text

__all__ = ["MARKER", "read_results", "record_result", "results_dir", "write_json_atomic"]

MARKER = ".genesis-course.json"


def write_json_atomic(path: Path, obj: Any, mode: int = 0o600) -> None:
    """Write ``obj`` as JSON to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)
    atomic_write_text(path, text, mode=mode, fsync=True)


def _course_marker(start: Path) -> dict[str, Any] | None:
    for folder in (start, *start.parents):
        marker = folder / MARKER
        if marker.is_file():
            try:
                return json.loads(marker.read_text())
            except (OSError, ValueError):
                return None
    return None


def results_dir(cwd: Path | None = None) -> Path:
    """Where this kernel's exercise results go (course storage, or ``state_dir/training``).

    >>> results_dir(Path("/")).name
    'training'
    """
    marker = _course_marker(Path(cwd or Path.cwd()).resolve())
    if marker and marker.get("results_dir"):
        return Path(marker["results_dir"])
    from genesis_lab.settings import get_settings

    state_dir = get_settings().state_dir
    assert state_dir is not None
    return state_dir / "training"


def read_results(path: Path) -> dict[str, Any]:
    """The results file at ``path`` (an empty record when there is none yet)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {"exercises": {}}
    except ValueError:
        return {"exercises": {}, "unreadable": True}
    data.setdefault("exercises", {})
    return data


def record_result(
    notebook: str, exercise: str, passed: bool, message: str, *, folder: Path | None = None
) -> Path:
    """Merge one exercise outcome into ``<folder>/<notebook>.json`` atomically; return the path.

    >>> import tempfile
    >>> p = record_result("nb", "ex1", True, "ok", folder=Path(tempfile.mkdtemp()))
    >>> read_results(p)["exercises"]["ex1"]["passed"]
    True
    """
    from genesis_lab.settings import get_settings

    folder = Path(folder) if folder is not None else results_dir()
    path = folder / f"{notebook}.json"
    data = read_results(path)
    data.pop("unreadable", None)
    previous = data["exercises"].get(exercise, {})
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data["exercises"][exercise] = {
        "passed": bool(passed),
        "message": message,
        "time": now,
        "attempts": int(previous.get("attempts", 0)) + 1,
    }
    data.update(notebook=notebook, user=get_settings().user, updated=now)
    write_json_atomic(path, data)
    return path
