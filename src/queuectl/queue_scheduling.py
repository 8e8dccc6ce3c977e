"""The scheduling part of ``queuectl.Queue``: named queues, recurring jobs and retention.

>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     q.limit_queue("video", 2)                 # at most 2 video jobs run at once
...     q.add_schedule("backup", {"command": "backup.sh"}, cron="0 2 * * *",
...                    tz="Europe/Berlin")
...     q.purge(["completed"], older_than="7d")
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput, QueuectlError, ScheduleNotFound
from .jobspec.parse import parse_job_spec
from .jobspec.text import queue_name
from .states import TERMINAL_STATES, JobState
from .units import parse_duration

if TYPE_CHECKING:
    from . import config
    from .clock import Clock
    from .listing import JobPage
    from .models import QueueInfo
    from .recurring import Schedule
    from .storage import Storage

PURGE_BATCH = 500  # jobs deleted per transaction by purge


class QueueScheduling:
    """Methods of ``Queue`` (it provides ``storage``, ``clock`` and ``settings``)."""

    storage: Storage
    clock: Clock

    if TYPE_CHECKING:
        @property
        def settings(self) -> config.Settings: ...

    # -- named queues ------------------------------------------------------------------------

    def queues(self) -> list[QueueInfo]:
        """Every queue that has jobs or a setting, with its jobs per state, pause and limit."""
        return self.storage.queues()

    def pause_queue(self, name: str) -> None:
        """Workers stop claiming the queue's jobs; jobs already running finish."""
        self.storage.set_queue_paused(queue_name(name), True)

    def resume_queue(self, name: str) -> None:
        self.storage.set_queue_paused(queue_name(name), False)

    def limit_queue(self, name: str, limit: int | str | None) -> int | None:
        """At most ``limit`` of the queue's jobs run at once, across all workers; ``0``,
        ``"none"`` or None removes the limit. Returns the limit now in force."""
        value = _queue_limit(limit)
        self.storage.set_queue_limit(queue_name(name), value)
        return value

    def pending_breakdown(self) -> dict[str, int]:
        """Pending jobs by what they wait for: ``ready`` (a worker may take them now, unless
        their queue is paused or full), ``scheduled`` (their run_at is to come) and
        ``blocked`` (a dependency has not completed)."""
        waiting = self.storage.pending_breakdown(self.clock.now())
        ready = waiting.pop("pending") - waiting["scheduled"] - waiting["blocked"]
        return {"ready": max(0, ready), **waiting}

    # -- recurring jobs ----------------------------------------------------------------------

    def add_schedule(
        self, name: str, job: Mapping[str, Any] | str, *, cron: str | None = None,
        every: float | str | None = None, tz: str | None = None,
    ) -> Schedule:
        """Enqueue ``job`` (a job's JSON object, or its text, without an id) on a cron
        expression (in the zone ``tz``, default UTC) or every ``every`` (e.g. ``"30s"``), from
        the next tick on.

        Raises ``InvalidInput`` for a bad name, expression, zone, interval or job, and
        ``QueuectlError`` if the name is taken; nothing is stored then.
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
        parse_job_spec({**template, "id": tick_job_id(name, 0)}, self.settings)
        now = self.clock.now()
        schedule = Schedule(name=name, job=template, cron=cron, every=seconds, tz=tz,
                            next_run_at=first_tick(cron, seconds, tz, now), created_at=now)
        if not self.storage.add_schedule(schedule, now):
            raise QueuectlError(f"a schedule named {name!r} exists already")
        return schedule

    def schedules(self) -> list[Schedule]:
        return self.storage.schedules()

    def remove_schedule(self, name: str) -> None:
        """Stop the schedule for good; jobs it enqueued already stay."""
        if not self.storage.remove_schedule(name):
            raise ScheduleNotFound(name)

    def pause_schedule(self, name: str) -> None:
        if not self.storage.set_schedule_paused(name, True, None):
            raise ScheduleNotFound(name)

    def resume_schedule(self, name: str) -> Schedule:
        """Resume from the next tick after now: ticks missed while paused do not run."""
        schedule = self.storage.get_schedule(name)
        if schedule is None:
            raise ScheduleNotFound(name)
        now = self.clock.now()
        following = schedule.following(schedule.next_run_at, now) if schedule.paused else None
        if not self.storage.set_schedule_paused(name, False, following):
            raise ScheduleNotFound(name)
        stored = self.storage.get_schedule(name)
        assert stored is not None
        return stored

    # -- retention ---------------------------------------------------------------------------

    def purge(self, states: Sequence[JobState | str], older_than: float | str = 0.0) -> int:
        """Delete finished jobs in ``states`` (completed, dead, canceled) last updated more
        than ``older_than`` ago (seconds or e.g. ``"7d"``; 0: all of them), with their
        attempts and output, in short batches. Returns how many were deleted."""
        chosen = [JobState.parse(s) if isinstance(s, str) else s for s in states]
        if not chosen:
            raise InvalidInput("give at least one state to purge")
        for state in chosen:
            if state not in TERMINAL_STATES:
                raise InvalidInput("only finished jobs (completed, dead, canceled) can be"
                                   f" purged, not {state.value}")
        age = parse_duration(older_than, field="older-than")
        before = self.clock.now() - age if age else math.inf
        deleted = 0
        for state in dict.fromkeys(chosen):
            cursor: int | None = 0
            while cursor is not None:
                count, cursor = self.storage.purge_batch(state, before, PURGE_BATCH, cursor)
                deleted += count
        return deleted

    # -- the dashboard's jobs page: listing by queue --------------------------------------

    def search_queue_jobs(
        self, queue: str | None, state: JobState | str | None = None, text: str | None = None,
        *, before: str | None = None, after: str | None = None, limit: int = 50,
    ) -> JobPage:
        """``search_jobs`` in the queue named ``queue`` only (None: in every queue)."""
        from .listing import JobQuery

        if isinstance(state, str):
            state = JobState.parse(state)
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit: must be between 1 and 1000, got {limit}")
        if before is not None and after is not None:
            raise InvalidInput("give before or after, not both")
        query = JobQuery(state=state, text=text.strip() or None if text else None,
                         queue=None if queue is None else queue_name(queue))
        return self.storage.search_jobs(query, limit, before=before, after=after)


def _queue_limit(limit: int | str | None) -> int | None:
    if limit is None or (isinstance(limit, str) and limit.strip().lower() in ("none", "off")):
        return None
    if isinstance(limit, bool):
        raise InvalidInput(f"limit: expected a whole number or none, got {limit!r}")
    try:
        value = int(limit)
    except ValueError:
        raise InvalidInput(f"limit: expected a whole number or none, got {limit!r}") from None
    if value < 0 or value > 1_000_000:
        raise InvalidInput(f"limit: must be between 0 (none) and 1000000, got {limit!r}")
    return value or None


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
