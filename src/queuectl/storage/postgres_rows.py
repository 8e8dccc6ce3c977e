"""The PostgreSQL store's named statements and how its rows become models."""

from __future__ import annotations

import json
from dataclasses import fields
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..models import Job, JobState
from .sql import load_queries

# Bytes: psycopg takes a query as bytes when it is not a literal in the source.
Q = {name: text.encode()
     for name, text in load_queries(Path(__file__).parent / "postgres.sql").items()}
Row = dict[str, Any]


# Job's stored fields, in the order of its constructor: each is a column of the same name.
_FIELDS = [field.name for field in fields(Job) if field.name != "unique_conflict"]
_values_of = itemgetter(*_FIELDS)
_STATE, _ENV, _CODES = (_FIELDS.index(name) for name in ("state", "env", "fatal_exit_codes"))
_LISTS = [_FIELDS.index("tags"), _FIELDS.index("depends_on")]  # arrays, NULL when empty
_STATES = {state.value: state for state in JobState}


def job_of(row: Row) -> Job:
    """The job in ``row``; taken positionally, which costs half of naming 29 fields (every
    claim turns rows into jobs)."""
    values: list[Any] = list(_values_of(row))
    values[_STATE] = _STATES[values[_STATE]]
    values[_ENV] = json.loads(values[_ENV]) if values[_ENV] else None
    values[_CODES] = tuple(values[_CODES] or ())
    for index in _LISTS:
        values[index] = tuple(values[index] or ())
    return Job(*values)


def claim_order(row: Row) -> tuple[int, float, int]:
    return (-row["priority"], row["run_at"], row["seq"])
