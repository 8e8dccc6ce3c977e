"""Writing exported jobs back exactly as they were: the part of ``restore`` both backends share.

A job's stored columns are named after the fields of ``Job``; each backend only says how it
encodes a value (SQLite keeps lists as JSON text, PostgreSQL as arrays). The column list comes
from the dataclass, never from input, so building the INSERT from it is safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from enum import Enum
from typing import Any

from ..models import Attempt, Job
from ..schedules import Schedule

# Fields of Job that describe the call that returned it, not the stored job.
NOT_STORED = frozenset({"unique_conflict"})
JOB_COLUMNS = tuple(f.name for f in fields(Job) if f.name not in NOT_STORED)


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

