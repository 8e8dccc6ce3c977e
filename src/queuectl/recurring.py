"""Recurring jobs: a named job template enqueued on a cron expression or a fixed interval.

A schedule's ``next_run_at`` is its tick key: a worker enqueues the tick only by moving
``next_run_at`` on from the exact value it read, in the same transaction that inserts the job
(see the store's ``enqueue_tick``), so each tick runs once however many workers race for it.
Ticks missed while no worker ran are not replayed: the first worker back enqueues the oldest
missed tick once (a single catch-up run) and moves on to the first tick after now.

>>> every = Schedule("backup", {"command": "true"}, every=60.0, next_run_at=120.0)
>>> every.following(120.0, now=400.5)   # missed 180..360: one catch-up, then on the grid
420.0
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from .cron import Cron
from .errors import InvalidInput
from .units import format_duration, format_timestamp, is_number

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
# Fields a template may not set: the id comes from the tick, and a fixed time, a delay or a
# dependency on one job makes no sense for a job that recurs.
FORBIDDEN_FIELDS = ("id", "run_at", "depends_on")


@dataclass(frozen=True)
class Schedule:
    name: str
    job: Mapping[str, Any]  # the job's JSON object, as given (with cwd filled in)
    cron: str | None = None
    every: float | None = None  # seconds
    tz: str | None = None
    paused: bool = False
    next_run_at: float = 0.0
    last_run_at: float | None = None  # the last tick enqueued
    last_job_id: str | None = None
    created_at: float = 0.0

    def following(self, tick: float, now: float) -> float:
        """The tick after ``tick`` once a worker has handled it at ``now``: always after now.

        ``InvalidInput``, naming the field, for a row edited by hand that cannot say: an
        interval that is not positive or below the second ``schedule add`` holds it to (the
        tick after would not come after now, and the schedule would tick at every look; a
        tiny one, ``1e-300``, overflowed), or that is no number (SQLite); neither an
        interval nor a cron expression.
        """
        every = self.every
        if every is not None:
            if not is_number(every):
                from .jobspec.text import shown

                raise InvalidInput(f"its every is not a number: {shown(every)}")
            if not every > 0:  # NaN too
                raise InvalidInput(f"every: must be positive; got {every:g}s")
            if every < 1:  # as schedule add holds it: 1e-300 ticked at every look, or raised
                raise InvalidInput(f"every: must be at least 1s; got {every:g}s")
            steps = math.floor((now - tick) / every) + 1
            return tick + max(1, steps) * every
        if self.cron is None:
            raise InvalidInput("it has neither a cron nor an every: no tick follows")
        return Cron.parse(self.cron).next_after(max(tick, now), time_zone(self.tz))

    def template_problem(self) -> str | None:
        """Why the stored job template cannot be read, None if it can: ``schedule add``
        stores a JSON object, but a row edited by hand may hold any text.

        >>> Schedule("bad", [1, 2]).template_problem()
        'its job template is not a JSON object: [1, 2]'
        """
        if isinstance(self.job, Mapping):
            return None
        from .jobspec.text import shown

        return f"its job template is not a JSON object: {shown(self.job)}"

    def describe(self) -> str:
        """How the schedule recurs, as ``schedule list`` shows it."""
        if self.every is not None:
            if not is_number(self.every):
                from .jobspec.text import shown

                return f"every {shown(self.every)} (unreadable)"  # SQLite: text by hand
            return f"every {format_duration(self.every)}"
        return f"cron {self.cron}" + (f" ({self.tz})" if self.tz else "")

    def to_dict(self) -> dict[str, Any]:
        """The schedule as JSON; one whose template cannot be read has ``"job": null`` and a
        ``"job_error"`` saying why (only such a schedule has that key)."""
        problem = self.template_problem()
        shown = {
            "name": self.name, "cron": self.cron, "tz": self.tz, "every": self.every,
            "paused": self.paused, "job": None if problem else dict(self.job),
            "next_run_at": None if self.paused else format_timestamp(self.next_run_at),
            "last_run_at": format_timestamp(self.last_run_at), "last_job_id": self.last_job_id,
            "created_at": format_timestamp(self.created_at),
        }
        if problem:
            shown["job_error"] = problem
        return shown


def schedule_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"schedule name: {value!r} must be 1-64 letters, digits or ._:- and start with a"
            " letter or digit"
        )
    return value


def time_zone(name: str | None) -> tzinfo:
    """The zone called ``name`` (IANA, e.g. Europe/Berlin); None is UTC."""
    from datetime import timezone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None:
        return timezone.utc
    if not isinstance(name, str):  # ZoneInfo raises TypeError
        raise InvalidInput(f"tz: expected a time zone name, got {type(name).__name__}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"tz: unknown time zone {name!r} (e.g. Europe/Berlin, UTC)") from None


def every_seconds(seconds: float) -> float:
    from .jobspec.limits import MAX_DELAY_SECONDS

    if not 1 <= seconds <= MAX_DELAY_SECONDS:  # NaN and infinities too
        raise InvalidInput(f"every: at least 1s and at most 100 years; got {seconds:g}s")
    if seconds != int(seconds):
        raise InvalidInput(f"every: must be whole seconds, at least 1s; got {seconds:g}s")
    return seconds


def first_tick(cron: str | None, every: float | None, tz: str | None, now: float) -> float:
    """When a new (or resumed) schedule is first due: the first cron time after now, or one
    interval after the next whole second (ticks of intervals fall on whole seconds)."""
    if every is not None:
        return math.ceil(now) + every
    assert cron is not None
    return Cron.parse(cron).next_after(now, time_zone(tz))


def tick_job_id(name: str, tick: float) -> str:
    """The id of the job a tick enqueues, unique per tick: ``backup@20260101T020000Z``."""
    return f"{name}@{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(tick))}"
