"""Courses: a hub group plus a set of notebooks, enrolled learners and per-course storage.

Definitions live in ``state_dir/courses/<name>.yaml`` (0644: the genesis service reads who the
learners and educators are). Storage (``course_storage_root/<name>/assigned``) holds the assigned
notebooks, copied into each learner's home by the hub at their next session. Learners' results go
through the genesis service into its own folder (:mod:`genesis_lab.training.results`): the
service takes the learner from the caller's token, so nobody records for another learner, and
only the learner, the course's educators and admins read them. Nothing here depends on the
session's Unix account or groups.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesis_lab.errors import AllocationError, CourseError
from genesis_lab.fileio import atomic_path, atomic_write_text
from genesis_lab.training.results import (
    MARKER,
    course_results_root,
    read_results,
    write_json_atomic,
)

__all__ = [
    "Course",
    "assign",
    "check_course_cap",
    "create_course",
    "deliver_assignments",
    "enroll",
    "get_course",
    "list_courses",
    "not_in_allocation",
    "progress",
    "storage_dir",
]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,24}$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$")


class Course(BaseModel):
    """One course: its group, assigned notebooks, learners and training allocation.

    >>> Course(name="ml-101", title="ML").group
    'course-ml-101'
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str = ""
    group: str = ""
    notebooks: list[str] = Field(default_factory=list)
    learners: list[str] = Field(default_factory=list)
    educators: list[str] = Field(default_factory=list)
    allocation: str | None = None
    cap_core_hours_per_learner: float | None = Field(None, gt=0)
    unix_group: bool = False
    created: str = ""

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                "must be lowercase letters, digits and '-', starting with a letter, at most 25"
            )
        return v

    def model_post_init(self, _context: Any) -> None:
        if not self.group:
            self.group = f"course-{self.name}"


def _settings() -> Any:
    from genesis_lab.settings import get_settings

    return get_settings()


def _definitions_dir() -> Path:
    return _settings().state_dir / "courses"


def storage_root() -> Path:
    """The folder holding every course's storage.

    >>> storage_root().name
    'course-storage'
    """
    s = _settings()
    return Path(s.course_storage_root) if s.course_storage_root else s.state_dir / "course-storage"


def storage_dir(course: Course) -> Path:
    """``course_storage_root/<course>``: assigned notebooks and one private folder per learner."""
    return storage_root() / course.name


def learner_dir(course: Course, user: str) -> Path:
    """The learner's results folder of ``course``, in the genesis service's own folder."""
    return course_results_root() / course.name / user


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    folder = _definitions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{name}.lock", "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        yield


def _path(name: str) -> Path:
    return _definitions_dir() / f"{name}.yaml"


def _save(course: Course) -> None:
    atomic_write_text(
        _path(course.name), yaml.safe_dump(course.model_dump(), sort_keys=False), mode=0o644
    )


def get_course(name: str) -> Course:
    """The course ``name``; :class:`CourseError` lists the courses there are when unknown."""
    path = _path(name)
    if not path.is_file():
        known = ", ".join(c.name for c in list_courses()) or "none yet"
        raise CourseError(
            f"No course named {name!r} (courses: {known}). Create it with "
            "`genesis-lab course create NAME`."
        )
    try:
        return Course(**(yaml.safe_load(path.read_text()) or {}))
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise CourseError(f"The course file {path} is invalid: {exc}") from None


def list_courses() -> list[Course]:
    """Every course defined on this site, by name."""
    folder = _definitions_dir()
    if not folder.is_dir():
        return []
    return [get_course(p.stem) for p in sorted(folder.glob("*.yaml"))]


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CourseError(
            f"Command {' '.join(argv)} failed with exit code {proc.returncode}: "
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )


def _group_id(course: Course) -> int:
    if not course.unix_group:
        return os.getgid()
    try:
        return grp.getgrnam(course.group).gr_gid
    except KeyError:
        raise CourseError(
            f"The Unix group {course.group!r} of course {course.name!r} does not exist; "
            "re-run `genesis-lab course create` as root."
        ) from None


def _hub(
    method: str, path: str, body: Any = None, *, missing_ok: bool = False, required: bool = False
) -> Any:
    """Call the hub REST API when one is configured; ``None`` when there is no hub (unless
    ``required``: then :class:`CourseError` says how to name it)."""
    from genesis_lab.access.hubapi import HubAPIError, HubClient

    s = _settings()
    if not (s.hub_api_url and s.hub_api_token):
        if required:
            raise CourseError(
                "A course needs its hub group, and no hub is named: set JUPYTERHUB_API_URL "
                "(the hub's API, e.g. http://127.0.0.1:8081/hub/api) and JUPYTERHUB_API_TOKEN "
                "(an admin's token, from /hub/token) and run `genesis-lab course create` again."
            )
        return None
    try:
        return HubClient(s.hub_api_url, s.hub_api_token).call(method, path, body)
    except HubAPIError as exc:
        if exc.status == 409:  # the group exists already
            return {}
        if exc.status == 404 and missing_ok:
            return None
        if exc.status is None:
            raise CourseError(
                f"{exc} Start the hub (`genesis-lab up`) or fix JUPYTERHUB_API_URL, then run "
                "the command again."
            ) from None
        raise CourseError(str(exc)) from None


def create_course(
    name: str,
    *,
    title: str = "",
    allocation: str | None = None,
    cap_core_hours_per_learner: float | None = None,
    unix_group: bool = False,
    educators: Sequence[str] = (),
) -> Course:
    """Create course ``name``: its definition, storage, Unix group (as root) and hub group.

    >>> c = create_course("doc-course", title="Doctest")  # doctest: +SKIP
    """
    try:
        course = Course(
            name=name,
            title=title,
            allocation=allocation,
            cap_core_hours_per_learner=cap_core_hours_per_learner,
            unix_group=unix_group,
            educators=list(educators),
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CourseError(f"Course field {err['loc'][0]!r}: {err['msg']}") from None
    if allocation is not None:
        from genesis_lab.compute.allocations import get_allocations

        known = get_allocations()
        if allocation not in known:
            raise CourseError(
                f"allocation={allocation!r} is not an allocation of this site; allowed values: "
                f"{', '.join(known) or 'none (add one to the site file)'}"
            )
    if cap_core_hours_per_learner is not None and allocation is None:
        raise CourseError("cap_core_hours_per_learner needs an allocation: pass --allocation ID")
    if unix_group and os.geteuid() != 0:
        raise CourseError("A course with a Unix group must be created as root.")
    with _locked(name):
        if _path(name).exists():
            raise CourseError(f"A course named {name!r} exists already.")
        _hub("POST", f"/groups/{urllib.parse.quote(course.group)}", required=True)
        if unix_group:
            try:
                grp.getgrnam(course.group)
            except KeyError:
                _run(["groupadd", course.group])
        _make_storage(course)
        _save(course)
    return course


def _make_storage(course: Course) -> None:
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    gid = _group_id(course)
    top = storage_dir(course)
    for folder, mode in ((top, 0o2750), (top / "assigned", 0o2750)):
        folder.mkdir(exist_ok=True)
        if course.unix_group:
            os.chown(folder, 0, gid)
        os.chmod(folder, mode)


def _learner_ids(user: str) -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _home_owner(user: str, home: Path) -> tuple[int, int] | None:
    try:
        st = home.stat()
    except FileNotFoundError:
        return _learner_ids(user)
    return st.st_uid, st.st_gid


def enroll(name: str, users: Sequence[str]) -> Course:
    """Enroll ``users`` (hub user names) in course ``name``: the definition and the hub group,
    and the Unix group for a course made with one."""
    bad = [u for u in users if not _USER.match(u)]
    if bad:
        raise CourseError(f"{bad[0]!r} is not a valid user name (lowercase letters, digits, _-.)")
    with _locked(name):
        course = get_course(name)
        _group_id(course)  # a course's Unix group must exist before anyone joins it
        for user in users:
            if course.unix_group:
                if _learner_ids(user) is None:
                    raise CourseError(f"User {user!r} has no Unix account on this machine.")
                _run(["gpasswd", "-a", user, course.group])
            if user not in course.learners:
                course.learners.append(user)
        for user in users:  # vetted users who never logged in have no hub user yet
            if _hub("GET", f"/users/{user}", missing_ok=True) is None:
                _hub("POST", f"/users/{user}")
        _hub("POST", f"/groups/{urllib.parse.quote(course.group)}/users", {"users": list(users)})
        _save(course)
    return course


def _exercises(notebook: Path) -> list[str]:
    try:
        meta = json.loads(notebook.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return []
    return list(meta.get("genesis", {}).get("exercises", []))


def assign(name: str, notebooks: Sequence[Path | str]) -> Course:
    """Copy ``notebooks`` into the course's ``assigned`` folder; learners get them next session."""
    paths = [Path(p) for p in notebooks]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            raise CourseError(f"{str(p)!r} is not a notebook file (.ipynb).")
    with _locked(name):
        course = get_course(name)
        target = storage_dir(course) / "assigned"
        for p in paths:
            with atomic_path(target / p.name, mode=0o640) as tmp:
                shutil.copyfile(p, tmp)
            if p.name not in course.notebooks:
                course.notebooks.append(p.name)
        _save(course)
    return course


def deliver_assignments(user: str, home: Path | str) -> list[Path]:
    """Copy the notebooks assigned to ``user`` into ``home/courses/<course>/``; return new files.

    A file that exists already is never overwritten (the learner's edits are kept). Run as root,
    created files and folders are given to the owner of ``home`` (the Unix account the session
    runs as, which need not be named like the hub user), or to the Unix user ``user`` when the
    home does not exist yet.

    >>> deliver_assignments("nobody-enrolled", "/tmp/gl-doc-home")
    []
    """
    home = Path(home)
    ids = _home_owner(user, home) if os.geteuid() == 0 else None
    delivered: list[Path] = []

    def own(path: Path) -> None:
        if ids is not None:
            os.chown(path, *ids)

    for course in list_courses():
        if user not in course.learners:
            continue
        base = home / "courses"
        folder = base / course.name
        for f in (home, base, folder):
            if not f.exists():
                f.mkdir(mode=0o700)
                own(f)
        os.chmod(base, 0o700)
        os.chmod(folder, 0o700)
        marker = folder / MARKER
        write_json_atomic(marker, {"course": course.name}, 0o600)
        own(marker)
        for nb in course.notebooks:
            source = storage_dir(course) / "assigned" / nb
            dest = folder / nb
            if dest.exists() or not source.is_file():
                continue
            tmp = folder / f".{nb}.tmp"
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o600)
            own(tmp)
            try:
                os.link(tmp, dest)  # fails if the learner created the file meanwhile
            except FileExistsError:
                continue
            finally:
                tmp.unlink()
            delivered.append(dest)
    return delivered


def not_in_allocation(course: Course) -> list[str]:
    """Learners the course's allocation does not list as members (the spawner would refuse them).

    >>> not_in_allocation(Course(name="c", learners=["alice"]))  # no allocation
    []
    """
    if course.allocation is None:
        return []
    from genesis_lab.compute.allocations import get_allocation

    alloc = get_allocation(course.allocation)
    return [u for u in course.learners if alloc is None or not alloc.is_member(u)]


def check_course_cap(course: Course | str, user: str) -> None:
    """Raise :class:`AllocationError` when ``user`` has used their core-hour cap of the course.

    Reads the site ledger through :func:`genesis_lab.compute.ledger.used_core_hours`: the file
    as root or the service's account, through the genesis service in the learner's own session.

    >>> check_course_cap(Course(name="c"), "alice")  # no allocation: no cap
    """
    if isinstance(course, str):
        course = get_course(course)
    if course.allocation is None or course.cap_core_hours_per_learner is None:
        return
    from genesis_lab.compute.ledger import used_core_hours

    used = used_core_hours(course.allocation, user)
    if used >= course.cap_core_hours_per_learner:
        raise AllocationError(
            f"{user!r} has used {used:.2f} of the {course.cap_core_hours_per_learner:g} "
            f"core-hours each learner of course {course.name!r} may charge to allocation "
            f"{course.allocation!r}. Ask the course's educator for more."
        )


def _learner_results(course: Course) -> dict[str, dict[str, Any]]:
    """``{learner: {notebook: results}}``: read in the service's folder (as root or the service's
    account), else asked of the service with this process's (an educator's) token."""
    root = course_results_root() / course.name
    try:
        return {
            learner: {
                nb.removesuffix(".ipynb"): read_results(
                    root / learner / f"{nb.removesuffix('.ipynb')}.json"
                )
                for nb in course.notebooks
            }
            for learner in course.learners
        }
    except PermissionError:
        pass
    from genesis_lab.catalog.remote import _request, service_configured
    from genesis_lab.errors import CatalogError

    s = _settings()
    if not service_configured(s):
        raise CourseError(
            f"Cannot read {root}: run `genesis-lab course progress` as root on the hub's host, "
            "or with GENESIS_SERVICE_URL and an educator's JUPYTERHUB_API_TOKEN."
        )
    try:
        status, answer = _request(s, f"api/courses/{course.name}/results")
    except CatalogError as exc:
        raise CourseError(str(exc)) from None
    if status != 200:
        raise CourseError(f"The genesis service answered {status}: {answer.get('message', '')}")
    return answer["results"]


def progress(name: str) -> list[dict[str, Any]]:
    """One row per learner, notebook and exercise: ``pass``, ``fail`` or ``not attempted``.

    Read from the results the service keeps (as root on the hub's host, or through the service
    with an educator's or admin's token).
    """
    course = get_course(name)
    results = _learner_results(course)
    rows: list[dict[str, Any]] = []
    for learner in course.learners:
        for nb in course.notebooks:
            stem = nb.removesuffix(".ipynb")
            expected = _exercises(storage_dir(course) / "assigned" / nb)
            got = results.get(learner, {}).get(stem, {}).get("exercises", {})
            for ex in expected + [e for e in got if e not in expected]:
                rec = got.get(ex)
                status = "not attempted" if rec is None else ("pass" if rec["passed"] else "fail")
                rows.append(
                    {
                        "learner": learner,
                        "notebook": stem,
                        "exercise": ex,
                        "status": status,
                        "attempts": rec["attempts"] if rec else 0,
                        "message": "" if rec is None or rec["passed"] else rec["message"],
                        "time": rec["time"] if rec else None,
                    }
                )
    return rows
