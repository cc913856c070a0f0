"""Per-notebook exercise results: one JSON file per notebook, written atomically.

Inside a delivered course folder (``~/courses/<course>/`` with a ``.genesis-course.json`` marker)
results go to the genesis service (``POST api/courses/<course>/results``), which takes the learner
from the caller's token and keeps them in its own folder
(``<state>/service/course-results/<course>/<user>/``): a session's Unix account needs no write
access to anything shared, on a local host or in a SLURM job alike. Elsewhere (self-study)
results go to ``state_dir/training``. A result that cannot be recorded raises
:class:`~genesis_lab.errors.CourseError` with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from genesis_lab.errors import CatalogError, CourseError
from genesis_lab.fileio import atomic_write_text

__all__ = [
    "MARKER",
    "course_results_root",
    "merge_result",
    "read_results",
    "record_result",
    "results_dir",
    "write_json_atomic",
]

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


def course_results_root(settings: Any = None) -> Path:
    """``<state>/service/course-results``: the learners' results, in the genesis service's folder.

    >>> course_results_root().parts[-2:]
    ('service', 'course-results')
    """
    from genesis_lab.settings import get_settings

    state_dir = (settings or get_settings()).state_dir
    assert state_dir is not None
    return Path(state_dir) / "service" / "course-results"


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


def merge_result(
    path: Path, notebook: str, exercise: str, passed: bool, message: str, user: str
) -> Path:
    """Merge one exercise outcome of ``user`` into the results file ``path`` (atomically).

    >>> import tempfile
    >>> p = merge_result(Path(tempfile.mkdtemp()) / "nb.json", "nb", "ex1", True, "ok", "ann")
    >>> read_results(p)["exercises"]["ex1"]["attempts"]
    1
    """
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
    data.update(notebook=notebook, user=user, updated=now)
    write_json_atomic(path, data)
    return path


def _through_service(course: str, body: dict[str, Any]) -> str:
    from genesis_lab.catalog.remote import _request, service_configured
    from genesis_lab.settings import get_settings

    settings = get_settings()
    if not service_configured(settings):
        raise CourseError(
            "this session has no genesis service to record course results with "
            "(GENESIS_SERVICE_URL and the hub token JUPYTERHUB_API_TOKEN are unset)"
        )
    path = f"api/courses/{course}/results"
    try:
        status, answer = _request(settings, path, method="POST", body=body)
    except CatalogError as exc:
        raise CourseError(str(exc)) from None
    if status != 201:
        why = answer.get("message", "") if isinstance(answer, dict) else ""
        raise CourseError(f"the genesis service answered {status}: {why}")
    return f"{settings.service_url}{path}"


def record_result(
    notebook: str, exercise: str, passed: bool, message: str, *, folder: Path | None = None
) -> Path | str:
    """Record one exercise outcome: through the service in a course folder, else merged into
    ``<folder>/<notebook>.json``; returns where it went. :class:`CourseError` says why not.

    >>> import tempfile
    >>> p = record_result("nb", "ex1", True, "ok", folder=Path(tempfile.mkdtemp()))
    >>> read_results(p)["exercises"]["ex1"]["passed"]
    True
    """
    from genesis_lab.settings import get_settings

    if folder is None:
        marker = _course_marker(Path.cwd().resolve())
        if marker and marker.get("course"):
            body = {"notebook": notebook, "exercise": exercise, "passed": bool(passed),
                    "message": message}  # fmt: skip
            return _through_service(str(marker["course"]), body)
    folder = Path(folder) if folder is not None else results_dir()
    try:
        return merge_result(
            folder / f"{notebook}.json", notebook, exercise, passed, message, get_settings().user
        )
    except PermissionError as exc:
        raise CourseError(f"cannot write {exc.filename or folder}: permission denied") from None
