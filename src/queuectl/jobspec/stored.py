"""A stored job and its attempts, read back from an export, checked before they are imported.

An import writes jobs as they were stored, counters and times included, so every field is
held to the bounds of ``limits``, as at enqueue: a job that could not have been enqueued
cannot be imported either (a NUL in its cwd, a 30-day timeout, a run_at in year 10000).
One exception, ``portable_env``: variables whose names enqueue refuses now are left out
rather than refused, since no command ever saw them, from jobs and schedules' templates alike.
"""

from __future__ import annotations

from typing import TypeVar

from ..errors import InvalidInput
from . import fields
from .limits import MAX_ARGUMENT_BYTES, MAX_PATH_BYTES
from .text import is_variable_name, job_id, os_text, queue_name, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..models import Attempt, Job
    from ..recurring import Schedule

_Value = TypeVar("_Value")
_INT4 = 2**31 - 1  # PostgreSQL integer: attempts, runs, exit codes
_INT8 = 2**63 - 1  # PostgreSQL bigint: output_dropped
_MAX_WORKER_ID_BYTES = 256


def check_stored_job(job: Job) -> None:
    """``InvalidInput`` naming the job and the field if ``job`` holds a value out of bounds."""
    try:
        _check_job(job)
    except InvalidInput as exc:
        raise InvalidInput(f"job {shown(job.id)}: {exc}") from None


def portable_env(env: Mapping[str, _Value] | None) -> tuple[Mapping[str, _Value] | None, list[str]]:
    """``env`` without its variables whose names are not portable (``text.is_variable_name``),
    None if none is left, and those names. Stores older than that rule may hold some: the
    job's ``/bin/sh`` never passed them on (dash drops them) and a direct exec leaves them
    out, so the command runs as it always did. ``{"BAD NAME": "1", "OK": "2"}`` becomes
    ``{"OK": "2"}``, and ``["BAD NAME"]`` is returned. Anything but an object is kept as it
    is, for the checks to refuse."""
    if not isinstance(env, dict):
        return env, []  # None, or not an object at all (from JSON): checked later
    names = [name for name in env if not (isinstance(name, str) and is_variable_name(name))]
    kept = {name: value for name, value in env.items() if name not in names}
    return kept or None, names


def without_unportable_env(job: Job) -> tuple[Job, list[str]]:
    """``job`` with its ``env`` by ``portable_env``, and the names left out."""
    from dataclasses import replace

    env, names = portable_env(job.env)
    return (replace(job, env=env), names) if names else (job, [])


def schedule_without_unportable_env(schedule: Schedule) -> tuple[Schedule, list[str]]:
    """``schedule`` with its job template's ``env`` by ``portable_env`` (the key gone if no
    variable is left: a template's env is an object or absent), and the names left out."""
    from dataclasses import replace

    env, names = portable_env(schedule.job.get("env"))
    if not names:
        return schedule, []
    template = {key: value for key, value in schedule.job.items() if key != "env"}
    if env is not None:
        template["env"] = env
    return replace(schedule, job=template), names


def check_stored_attempt(attempt: Attempt) -> None:
    """The same for one attempt of a job's history."""
    try:
        _count(attempt.number, "attempt number", 1, _INT4)
        os_text(_text(attempt.worker_id, "worker_id"), "worker_id", _MAX_WORKER_ID_BYTES)
        fields.timestamp(attempt.started_at, "started_at")
        _optional(attempt.finished_at, fields.timestamp, "finished_at")
        _optional(attempt.exit_code, _count, "exit_code", -_INT4 - 1, _INT4)
        _optional(attempt.error, _message, "error")
        _count(attempt.output_dropped, "output_dropped", 0, _INT8)
    except InvalidInput as exc:
        raise InvalidInput(f"job {shown(attempt.job_id)}: attempt {attempt.number!r}: {exc}"
                           ) from None


def check_stored_schedule(schedule: Schedule) -> None:
    """The same for a recurring schedule: its times, its period and its job template (held
    to what ``schedule add`` takes: its ticks are enqueued from it)."""
    from ..config import Settings
    from .limits import MAX_DELAY_SECONDS
    from .parse import parse_job_spec

    try:
        _optional(schedule.every, fields.duration, "every", MAX_DELAY_SECONDS)
        for name in ("next_run_at", "created_at"):
            fields.timestamp(getattr(schedule, name), name)
        _optional(schedule.last_run_at, fields.timestamp, "last_run_at")
        _optional(schedule.last_job_id, job_id, "last_job_id")
        for name in ("id", "run_at", "depends_on"):
            if name in schedule.job:
                raise InvalidInput(f"job: a recurring job cannot set {name!r}")
        parse_job_spec({**schedule.job, "id": "tick"}, Settings(), cwd="/")
    except InvalidInput as exc:
        raise InvalidInput(f"schedule {shown(schedule.name)}: {exc}") from None


def _check_job(job: Job) -> None:
    job_id(job.id)
    fields.command(job.command)
    for name in ("attempts", "runs", "waiting_on"):
        _count(getattr(job, name), name, 0, _INT4)
    fields.max_retries(job.max_retries)
    for name in ("created_at", "updated_at", "run_at"):
        fields.timestamp(getattr(job, name), name)
    _optional(job.lease_until, fields.timestamp, "lease_until")
    fields.priority(job.priority)
    if job.cwd is not None:
        os_text(_text(job.cwd, "cwd"), "cwd", MAX_PATH_BYTES)
    if job.env is not None:
        fields.env(job.env)
    _optional(job.timeout, fields.timeout)
    _optional(job.exit_code, _count, "exit_code", -_INT4 - 1, _INT4)
    _optional(job.last_error, _message, "last_error")
    if job.worker_id is not None:
        os_text(_text(job.worker_id, "worker_id"), "worker_id", _MAX_WORKER_ID_BYTES)
    fields.exit_codes(job.fatal_exit_codes)
    fields.flag(job.retry_on_timeout, "retry_on_timeout")
    fields.flag(job.cancel_requested, "cancel_requested")
    _optional(job.output_limit, fields.output_limit)
    queue_name(job.queue)
    _optional(job.unique_key, fields.unique_key)
    fields.tags(job.tags)
    fields.depends_on(job.depends_on, job.id)
    _optional(job.backoff_base, fields.backoff_base)
    _optional(job.backoff_max, fields.backoff_max)
    _optional(job.jitter, fields.jitter)


def _optional(value: object, check: object, *args: object) -> None:
    if value is not None:
        check(value, *args)  # type: ignore[operator]


def _count(value: object, field: str, low: int, high: int) -> int:
    return fields.whole_number(value, field, low, high)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {shown(value)}")
    return value


def _message(value: object, field: str) -> str:
    return os_text(_text(value, field), field, MAX_ARGUMENT_BYTES)
