"""Writing exported jobs back exactly as they were (``queuectl import``).

A job's stored columns are named after the fields of ``Job``, and ``restore_job`` lists them
all; a driver only says how it encodes a list (``Transaction.array``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..errors import DuplicateJob, StorageError
from ..models import Attempt, Job, JobState, QueueInfo
from ..recurring import Schedule
from .base import INTERRUPTED
from .driver import Conflict

if TYPE_CHECKING:
    from .driver import Driver, Transaction

# Fields of Job that describe the call that returned it, not the stored job.
NOT_STORED = frozenset({"unique_conflict"})
JOB_COLUMNS = tuple(f.name for f in fields(Job) if f.name not in NOT_STORED)


def restore(db: Driver, settings: Mapping[str, str], jobs: Sequence[Job],
            attempts: Sequence[Attempt], schedules: Sequence[Schedule],
            queues: Sequence[QueueInfo] = ()) -> None:
    """Store settings, queues' settings, schedules and jobs with their history in one
    transaction; an id stored already raises ``DuplicateJob`` and nothing is written. A
    queue's settings replace those it had here."""

    def write(tx: Transaction) -> None:
        from .enqueue import keep_numbers_above

        tx.many("restore_job", [job_row(job, tx.array) for job in jobs])
        keep_numbers_above(tx, [job.id for job in jobs])  # numbers go on above imported ones
        tx.many("insert_tags", [(tag, job.id) for job in jobs for tag in job.tags])
        tx.many("insert_dependencies",
                [(other, job.id) for job in jobs for other in job.depends_on])
        if any(job.depends_on for job in jobs):
            tx.run("mark_dependencies", {"ids": tx.array([job.id for job in jobs])})
        tx.many("restore_attempt", [attempt_row(attempt) for attempt in attempts])
        # What the triggers of 0009 count for a worker's changes, counted for the imports.
        tx.many("count_new_jobs", [{"count": len(jobs)}])
        ids = tx.array([job.id for job in jobs])
        tx.run("count_restored_runs", {"ids": ids, "interrupted": INTERRUPTED})
        tx.run("count_restored_deaths", {"ids": ids})
        tx.many("set_config", [{"key": k, "value": v} for k, v in settings.items()])
        tx.many("set_queue_paused", [{"name": q.name, "paused": q.paused} for q in queues])
        tx.many("set_queue_limit", [{"name": q.name, "max_running": q.limit} for q in queues])
        if queues:
            tx.run("drop_plain_queues")
        tx.many("restore_schedule", [schedule_row(schedule) for schedule in schedules])
        tx.wake()

    try:
        db.write(write)
    except Conflict as exc:
        from .jobs import get

        ids = [job.id for job in jobs]
        duplicate = next((job_id for job_id in ids if get(db, job_id) is not None), None)
        if duplicate is not None:
            raise DuplicateJob(duplicate) from None
        _refuse_unique_key_held(db, jobs)
        raise StorageError(f"cannot import: {exc}") from None


def _refuse_unique_key_held(db: Driver, jobs: Sequence[Job]) -> None:
    """``DuplicateJob`` naming the imported job whose unique key a live job holds already,
    here or earlier in the import: at most one live job has a key (0004's index)."""
    from .jobs import key_held, live_holder

    live = (JobState.PENDING, JobState.FAILED, JobState.PROCESSING)
    seen: dict[str, str] = {}
    for job in jobs:
        key = job.unique_key
        if key is None or job.state not in live:
            continue
        held = seen.get(key) or live_holder(db, key)
        if held is not None:
            raise DuplicateJob(job.id, key_held(job.id, key, held, "nothing imported"))
        seen[key] = job.id


def job_row(job: Job, encode_list: Callable[[tuple[Any, ...]], Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in JOB_COLUMNS:
        value = getattr(job, name)
        if isinstance(value, Enum):
            value = value.value
        elif name == "env":
            value = json.dumps(dict(value), sort_keys=True) if value else None
        elif isinstance(value, tuple):
            value = encode_list(value) if value else None
        row[name] = value
    return row


def insert_job_sql(placeholder: Callable[[str], str]) -> str:
    columns = ", ".join(JOB_COLUMNS)
    values = ", ".join(placeholder(name) for name in JOB_COLUMNS)
    return f"INSERT INTO jobs ({columns}) VALUES ({values})"


def attempt_row(attempt: Attempt) -> dict[str, Any]:
    return {
        "job_id": attempt.job_id, "number": attempt.number, "worker_id": attempt.worker_id,
        "started_at": attempt.started_at, "finished_at": attempt.finished_at,
        "exit_code": attempt.exit_code, "error": attempt.error, "output": attempt.output,
        "output_dropped": attempt.output_dropped,
    }


def schedule_row(schedule: Schedule) -> dict[str, Any]:
    row = {f.name: getattr(schedule, f.name) for f in fields(Schedule)}
    row["job"] = json.dumps(dict(schedule.job), sort_keys=True)
    return row


def first_duplicate(job_ids: Sequence[str], stored: Callable[[str], bool]) -> str:
    for job_id in job_ids:
        if stored(job_id):
            return job_id
    return job_ids[0]
