"""``GET/POST api/courses/{course}/results``: learners' exercise results, kept by the service.

A check cell in a learner's session posts one outcome; the learner is always the caller (their
hub token), and must be enrolled in the course. Results are kept in the service's own folder
(``<state>/service/course-results/<course>/<user>/<notebook>.json``, 0700), out of every session
account's reach. ``GET`` answers the caller's own results; a course educator or an admin gets
every learner's (``?user=NAME`` for one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from genesis_lab.errors import CourseError
from genesis_lab.service.handlers import GenesisHandler, _json_body
from genesis_lab.training.courses import Course, get_course
from genesis_lab.training.results import course_results_root, merge_result, read_results

__all__ = ["COURSE_HANDLERS", "CourseResultsHandler"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
MAX_MESSAGE = 2000


def _store(root: Path, course: str, user: str, body: dict[str, Any]) -> Path:
    folder = root / course / user
    for f in (root, root / course, folder):
        f.mkdir(mode=0o700, exist_ok=True)
    return merge_result(folder / f"{body['notebook']}.json", body["notebook"], body["exercise"],
                        body["passed"], body["message"][:MAX_MESSAGE], user)  # fmt: skip


def _read(root: Path, course: Course, users: list[str]) -> dict[str, dict[str, Any]]:
    stems = [nb.removesuffix(".ipynb") for nb in course.notebooks]
    out: dict[str, dict[str, Any]] = {}
    for user in users:
        folder = root / course.name / user
        found = {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()
        out[user] = {s: read_results(folder / f"{s}.json") for s in sorted({*stems, *found})}
    return out


class CourseResultsHandler(GenesisHandler):
    """``POST``: record one exercise outcome of the caller. ``GET``: results the caller may read."""

    event_type = "course.results"

    def _course(self, name: str) -> Course:
        try:
            return get_course(name)
        except CourseError:
            self.fail(404, "not-found", f"No course named {name!r}.", "not-found")

    @property
    def root(self) -> Path:
        return course_results_root(self.state.settings)

    async def post(self, course: str) -> None:
        self.event_type = "course.record"
        body = _json_body(self)
        ok = (
            isinstance(body.get("notebook"), str)
            and _NAME.match(body["notebook"])
            and isinstance(body.get("exercise"), str)
            and _NAME.match(body["exercise"])
            and isinstance(body.get("passed"), bool)
            and isinstance(body.get("message", ""), str)
        )
        if not ok or set(body) - {"notebook", "exercise", "passed", "message"}:
            self.fail(400, "bad-result", "Give 'notebook' and 'exercise' (names of letters, "
                      "digits, '_', '.', '-'), 'passed' (true/false) and 'message' (text).",
                      "denied")  # fmt: skip
        body.setdefault("message", "")
        assert self.identity is not None
        me = self.identity.name
        found = self._course(course)
        if me not in found.learners:
            self.fail(403, "forbidden", f"{me} is not a learner of course {course!r}.", "denied")
        await self.state.run_in_thread(_store, self.root, found.name, me, body)
        self.audit("success", f"{course}: {body['notebook']}/{body['exercise']}")
        self.send_json({"course": found.name, "user": me, "notebook": body["notebook"],
                        "exercise": body["exercise"], "recorded": True}, 201)  # fmt: skip

    async def get(self, course: str) -> None:
        assert self.identity is not None
        me = self.identity.name
        found = self._course(course)
        asked = self.get_argument("user", None)
        teaches = self.identity.admin or me in found.educators
        if not teaches and asked not in (None, me):
            self.fail(403, "forbidden", f"{me} may read only their own results.", "denied")
        if asked is not None and asked not in (*found.learners, me):
            self.fail(404, "not-found", f"{asked!r} is not a learner of course {course!r}.",
                      "not-found")  # fmt: skip
        users = [asked] if asked else (found.learners if teaches else [me])
        results = await self.state.run_in_thread(_read, self.root, found, users)
        self.audit("success", f"{course}: results of {len(users)} learners")
        self.send_json({"course": found.name, "results": results})


COURSE_HANDLERS: list[tuple[str, type[GenesisHandler]]] = [
    (r"api/courses/(?P<course>[a-z][a-z0-9-]{0,24})/results", CourseResultsHandler),
]
