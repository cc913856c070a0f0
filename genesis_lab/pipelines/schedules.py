"""Schedule definitions: a cron expression, a challenge with validated parameters, owner, allocation.

Stored in ``<state_dir>/schedules.json``, changed under a file lock and written atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from genesis_lab.errors import ScheduleError
from genesis_lab.pipelines.challenge import get_challenge
from genesis_lab.pipelines.store import write_json_atomic
from genesis_lab.settings import Settings, get_settings

__all__ = ["Schedule", "ScheduleBook"]


class Schedule(BaseModel):
    """One schedule. ``last_fired`` is the cron slot most recently claimed (UTC)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    challenge: str
    cron: str
    owner: str
    allocation: str | None = None
    parameters: dict[str, Any] = {}
    notify: str | None = None
    created: dt.datetime
    last_fired: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def check_cron(expr: str) -> str:
    """``expr`` if croniter accepts it (5 fields, or 6 with seconds), else :class:`ScheduleError`."""
    from croniter import croniter

    if not isinstance(expr, str) or not croniter.is_valid(expr):
        raise ScheduleError(
            f"cron expression {expr!r} is invalid; use five fields 'minute hour day month "
            "weekday', for example '0 2 * * *' (every day at 02:00 UTC)"
        )
    return expr


class ScheduleBook:
    """The schedules of a site.

    >>> from genesis_lab.pipelines.schedules import ScheduleBook
    >>> book = ScheduleBook()
    >>> isinstance(book.list(), list)
    True
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.path = Path(self.settings.state_dir) / "schedules.json"

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Schedule]]:
        """Lock the book, yield its schedules by id, and write them back atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            schedules = self._read()
            yield schedules
            write_json_atomic(self.path, {"schedules": [s.as_dict() for s in schedules.values()]})

    def _read(self) -> dict[str, Schedule]:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ScheduleError(f"{self.path} is not valid JSON: {exc}") from None
        return {s["id"]: Schedule.model_validate(s) for s in doc.get("schedules", [])}

    def list(self) -> list[Schedule]:
        """Every schedule, oldest first."""
        return sorted(self._read().values(), key=lambda s: (s.created, s.id))

    def get(self, schedule_id: str) -> Schedule:
        schedules = self._read()
        if schedule_id not in schedules:
            raise ScheduleError(
                f"No schedule {schedule_id!r}; `genesis-lab schedule list` shows them."
            )
        return schedules[schedule_id]

    def add(
        self,
        challenge: str,
        cron: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        allocation: str | None = None,
        owner: str | None = None,
        notify: str | None = None,
        now: dt.datetime | None = None,
    ) -> Schedule:
        """Validate and store a schedule; its first run is the first cron slot after ``now``."""
        ch = get_challenge(challenge, self.settings)
        values = ch.validate_parameters(parameters or {})
        check_cron(cron)
        owner = owner or self.settings.user
        if allocation is not None:
            from genesis_lab.compute.allocations import check_allocation, get_allocation

            alloc = get_allocation(allocation)
            assert alloc is not None
            check_allocation(alloc, owner)
        if (
            notify is not None
            and "@" not in notify
            and not notify.startswith(("http://", "https://"))
        ):
            raise ScheduleError(
                f"notify {notify!r} must be an email address or an http(s) webhook URL"
            )
        schedule = Schedule(
            id=f"{ch.id}-{secrets.token_hex(3)}",
            challenge=ch.id,
            cron=cron,
            owner=owner,
            allocation=allocation,
            parameters=values,
            notify=notify,
            created=now or dt.datetime.now(dt.UTC),
        )
        with self.edit() as schedules:
            schedules[schedule.id] = schedule
        return schedule

    def remove(self, schedule_id: str) -> Schedule:
        with self.edit() as schedules:
            if schedule_id not in schedules:
                raise ScheduleError(
                    f"No schedule {schedule_id!r}; `genesis-lab schedule list` shows them."
                )
            return schedules.pop(schedule_id)
