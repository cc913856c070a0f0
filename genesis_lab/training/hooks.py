"""The hub's ``pre_spawn_hook``: refuse a learner over their course cap, then deliver assignments.

In ``hub_config/jupyterhub_config.py``:
``c.Spawner.pre_spawn_hook = "genesis_lab.training.hooks.pre_spawn_hook"`` (or the function).
"""

from __future__ import annotations

import pwd
from pathlib import Path
from typing import Any

from genesis_lab.training.courses import check_course_cap, deliver_assignments, list_courses

__all__ = ["learner_home", "pre_spawn_hook"]


def learner_home(spawner: Any) -> Path | None:
    """The session's home folder: the spawner's ``home_dir`` if it has one, else the Unix home.

    >>> class S:  # a stand-in with only what the hook reads
    ...     home_dir = "/tmp/h"
    >>> str(learner_home(S()))
    '/tmp/h'
    """
    home = getattr(spawner, "home_dir", None)
    if home:
        return Path(home)
    name = spawner.user.name
    try:
        return Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        return None


def pre_spawn_hook(spawner: Any) -> list[Path]:
    """Check course caps for the chosen allocation and copy new assignments into the home.

    Raises :class:`~genesis_lab.errors.AllocationError` (shown by the hub) when the learner has
    used their per-learner cap of a course bound to the session's allocation.
    """
    user = spawner.user.name
    options = getattr(spawner, "user_options", None) or {}
    allocation = options.get("allocation")
    for course in list_courses():
        if user in course.learners and course.allocation and course.allocation == allocation:
            check_course_cap(course, user)
    home = learner_home(spawner)
    if home is None:
        return []
    return deliver_assignments(user, home)
