"""Courses: a hub group plus a set of notebooks, enrolled learners and per-course storage.

Definitions live in ``state_dir/courses/<name>.yaml``. Storage (``course_storage_root/<name>/``)
is mode 2770 with the course's group; each learner has a 0700 folder of their own, so no
world-writable exchange folder exists and learners cannot read each other's work.
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
from genesis_lab.training.results import MARKER, read_results, write_json_atomic

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
    """The learner's private folder of ``course`` (their exercise results)."""
    return storage_dir(course) / "learners" / user


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
    atomic_write_text(_path(course.name), yaml.safe_dump(course.model_dump(), sort_keys=False))


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


def _hub(method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
    """Call the hub REST API when one is configured; ``None`` when there is no hub."""
    from genesis_lab.access.hubapi import HubAPIError, HubClient

    s = _settings()
    if not (s.hub_api_url and s.hub_api_token):
        return None
    try:
        return HubClient(s.hub_api_url, s.hub_api_token).call(method, path, body)
    except HubAPIError as exc:
        if exc.status == 409:  # the group exists already
            return {}
        if exc.status == 404 and missing_ok:
            return None
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
        if unix_group:
            try:
                grp.getgrnam(course.group)
            except KeyError:
                _run(["groupadd", course.group])
        _make_storage(course)
        _hub("POST", f"/groups/{urllib.parse.quote(course.group)}")
        _save(course)
    return course


def _make_storage(course: Course) -> None:
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    gid = _group_id(course)
    top = storage_dir(course)
    for folder, mode in ((top, 0o2770), (top / "assigned", 0o2750), (top / "learners", 0o2750)):
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
    """Enroll ``users`` in course ``name``: group membership and a private 0700 folder each."""
    bad = [u for u in users if not _USER.match(u)]
    if bad:
        raise CourseError(f"{bad[0]!r} is not a valid user name (lowercase letters, digits, _-.)")
    with _locked(name):
        course = get_course(name)
        gid = _group_id(course)
        for user in users:
            if course.unix_group:
                if _learner_ids(user) is None:
                    raise CourseError(f"User {user!r} has no Unix account on this machine.")
                _run(["gpasswd", "-a", user, course.group])
            folder = learner_dir(course, user)
            folder.mkdir(parents=True, exist_ok=True)
            ids = _learner_ids(user) if os.geteuid() == 0 else None
            if ids is not None:
                os.chown(folder, ids[0], gid)
            os.chmod(folder, 0o700)
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
        results = learner_dir(course, user)
        if not results.is_dir():
            raise CourseError(f"{user!r} has no folder in course {course.name!r}; enroll again.")
        marker = folder / MARKER
        write_json_atomic(marker, {"course": course.name, "results_dir": str(results)}, 0o600)
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

    >>> check_course_cap(Course(name="c"), "alice")  # no allocation: no cap
    """
    if isinstance(course, str):
        course = get_course(course)
    if course.allocation is None or course.cap_core_hours_per_learner is None:
        return
    from genesis_lab.compute.ledger import get_ledger

    used = get_ledger().used_core_hours(course.allocation, user)
    if used >= course.cap_core_hours_per_learner:
        raise AllocationError(
            f"{user!r} has used {used:.2f} of the {course.cap_core_hours_per_learner:g} "
            f"core-hours each learner of course {course.name!r} may charge to allocation "
            f"{course.allocation!r}. Ask the course's educator for more."
        )


def progress(name: str) -> list[dict[str, Any]]:
    """One row per learner, notebook and exercise: ``pass``, ``fail`` or ``not attempted``.

    Read from each learner's results file in the course storage (run as root or the educator).
    """
    course = get_course(name)
    rows: list[dict[str, Any]] = []
    for learner in course.learners:
        for nb in course.notebooks:
            stem = nb.removesuffix(".ipynb")
            expected = _exercises(storage_dir(course) / "assigned" / nb)
            path = learner_dir(course, learner) / f"{stem}.json"
            try:
                got = read_results(path)["exercises"]
            except PermissionError:
                raise CourseError(
                    f"Cannot read {path}: run `genesis-lab course progress` as root."
                ) from None
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
