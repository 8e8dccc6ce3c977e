"""How a row of the SQLite ``jobs`` table becomes a ``Job``.

Every claim turns rows into jobs, so this is kept cheap: the columns' positions are worked
out once per set of column names (a statement's ``SELECT *`` or ``RETURNING *``) and each
row is then read by position, in one C call. Looking the ~30 columns up by name, as
``sqlite3.Row`` does (a case-blind scan of the names), cost three times as much.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..states import JobState

if TYPE_CHECKING:
    from ..models import Job

_Reader = Callable[[sqlite3.Row], "Job"]
_readers: dict[tuple[str, ...], _Reader] = {}  # column names -> reader
_STATES = {state.value: state for state in JobState}


def job_of(row: sqlite3.Row) -> Job:
    """The job in ``row``, a row of the jobs table (other columns may come with it)."""
    return _reader(tuple(row.keys()))(row)


def jobs_of(rows: Sequence[sqlite3.Row]) -> list[Job]:
    """``job_of`` for rows of one statement, whose columns are looked at once."""
    if not rows:
        return []
    read = _reader(tuple(rows[0].keys()))
    return [read(row) for row in rows]


def _reader(columns: tuple[str, ...]) -> _Reader:
    read = _readers.get(columns)
    if read is None:
        read = _readers[columns] = _new_reader(columns)
    return read


def _new_reader(columns: tuple[str, ...]) -> _Reader:
    # Imported here: enqueueing a job needs neither the dataclass nor this function.
    from dataclasses import fields

    from ..models import Job

    # Job's stored fields, in the order of its constructor; each one is a column.
    names = [field.name for field in fields(Job) if field.name != "unique_conflict"]
    values_of = itemgetter(*[columns.index(name) for name in names])
    state, env, codes = names.index("state"), names.index("env"), names.index("fatal_exit_codes")
    flags = [names.index("retry_on_timeout"), names.index("cancel_requested")]
    lists = [names.index("tags"), names.index("depends_on")]  # JSON lists, NULL when empty

    def read(row: sqlite3.Row) -> Job:
        values: list[Any] = list(values_of(row))
        values[state] = _STATES[values[state]]
        values[env] = json.loads(values[env]) if values[env] else None
        values[codes] = tuple(json.loads(values[codes])) if values[codes] else ()
        for index in flags:
            values[index] = bool(values[index])
        for index in lists:
            values[index] = tuple(json.loads(values[index])) if values[index] else ()
        return Job(*values)

    return read
