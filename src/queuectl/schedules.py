"""Recurring jobs of a ``Queue`` (``queue.schedules``): add, list, pause, resume, remove.

Workers enqueue each tick once (see ``recurring``, the schedule and its arithmetic).

>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     q.schedules.add("backup", {"command": "backup.sh"}, cron="0 2 * * *",
...                     tz="Europe/Berlin")
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import DuplicateSchedule, InvalidInput, ScheduleNotFound
from .jobspec.parse import parse_job_spec
from .units import parse_duration

if TYPE_CHECKING:
    from .clock import Clock
    from .config import Settings
    from .recurring import Schedule
    from .storage import Storage


class Schedules:
    def __init__(self, storage: Storage, clock: Clock, settings: Callable[[], Settings]) -> None:
        self._storage = storage
        self._clock = clock
        self._settings = settings

    def add(self, name: str, job: Mapping[str, Any] | str, *, cron: str | None = None,
            every: float | str | None = None, tz: str | None = None) -> Schedule:
        """Enqueue ``job`` (a job's JSON object, or its text, without an id) on a cron
        expression (in the zone ``tz``, default UTC) or every ``every`` (e.g. ``"30s"``), from
        the next tick on.

        Raises ``InvalidInput`` for a bad name, expression, zone, interval or job, and
        ``DuplicateSchedule`` if the name is taken; nothing is stored then.
        """
        # Imported here: the cron and time zone machinery is not needed to enqueue.
        from .recurring import (
            Schedule,
            every_seconds,
            first_tick,
            schedule_name,
            tick_job_id,
            time_zone,
        )

        schedule_name(name)
        if (cron is None) == (every is None):
            raise InvalidInput("give --cron or --every (one of them)")
        if tz is not None and cron is None:
            raise InvalidInput("--tz goes with --cron")
        seconds = None if every is None else every_seconds(parse_duration(every, field="every"))
        time_zone(tz)
        template = _template(job)
        parse_job_spec({**template, "id": tick_job_id(name, 0)}, self._settings())
        now = self._clock.now()
        schedule = Schedule(name=name, job=template, cron=cron, every=seconds, tz=tz,
                            next_run_at=first_tick(cron, seconds, tz, now), created_at=now)
        if not self._storage.add_schedule(schedule, now):
            raise DuplicateSchedule(name)
        return schedule

    def remove(self, name: str) -> None:
        """Stop the schedule for good; jobs it enqueued already stay."""
        if not self._storage.remove_schedule(name):
            raise ScheduleNotFound(name)

    def pause(self, name: str) -> None:
        if not self._storage.set_schedule_paused(name, True, None):
            raise ScheduleNotFound(name)

    def resume(self, name: str) -> Schedule:
        """Resume from the next tick after now: ticks missed while paused do not run."""
        schedule = self._storage.get_schedule(name)
        if schedule is None:
            raise ScheduleNotFound(name)
        now = self._clock.now()
        following = schedule.following(schedule.next_run_at, now) if schedule.paused else None
        if not self._storage.set_schedule_paused(name, False, following):
            raise ScheduleNotFound(name)
        stored = self._storage.get_schedule(name)
        assert stored is not None
        return stored

    def list(self) -> builtins.list[Schedule]:
        return self._storage.schedules()


def _template(job: Mapping[str, Any] | str) -> dict[str, Any]:
    """The job a schedule enqueues, checked, with the directory it runs in made explicit."""
    if isinstance(job, str):
        try:
            job = json.loads(job)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(job, Mapping):
        raise InvalidInput(f"a job must be a JSON object, got {type(job).__name__}")
    from .recurring import FORBIDDEN_FIELDS

    for field in FORBIDDEN_FIELDS:
        if field in job:
            raise InvalidInput(f"field {field!r} cannot be given to a recurring job")
    template = dict(job)
    template.setdefault("cwd", os.getcwd())
    return template
