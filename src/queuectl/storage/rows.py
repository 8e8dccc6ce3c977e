"""How rows of the jobs table become ``Job`` values, for every driver.

Every claim turns rows into jobs, so this is kept cheap: the columns' positions are worked
out once per set of column names (a statement's ``SELECT *`` or ``RETURNING *``) and each
row is then read by position, in one C call. Looking ~30 columns up by name cost three times
as much. A driver says only how it stores a list (``decode_list``): SQLite as JSON text,
PostgreSQL as an array; both give NULL for an empty one.

A row edited by hand (the sqlite3 shell, a bad import) may hold what queuectl never writes:
a state it does not know, an env or list that is not JSON. Reading it must not fail the
statement, or a worker would retry the same claim forever. The fast reader is tried first
(a ``try`` costs nothing until it raises); a row it cannot read is read again field by field
(``_salvage``) into a ``Job`` whose ``unreadable`` says why, and ``decode`` returns
``SomeUnreadable``, so that a claim learns of it with one check per statement.
"""

from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False  # typing stays off the path of `queuectl enqueue`
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Protocol

    from ..models import Job
    from ..states import JobState

    class Cursor(Protocol):
        """What sqlite3's and psycopg's cursors both have."""

        @property
        def description(self) -> Sequence[Any] | None: ...

        def fetchall(self) -> list[Any]: ...

    Reader = Callable[[Sequence[Any]], Job]
    DecodeList = Callable[[Any], tuple[Any, ...]]

_NAME = itemgetter(0)  # of a column's description
# What the fast reader raises on a value queuectl never writes: an unknown state (KeyError),
# text that is not JSON (ValueError), JSON of the wrong type or bytes (TypeError), JSON nested
# deeper than the parser's recursion limit (RecursionError).
_UNREADABLE = (KeyError, TypeError, ValueError, RecursionError)


class SomeUnreadable(list["Job"]):
    """Jobs of a statement of which some rows could not be read whole (``Job.unreadable``);
    returned only then."""

    @property
    def unreadable(self) -> list[Job]:
        return [job for job in self if job.unreadable is not None]


class JobRows:
    """Readers of job rows for one way of storing lists, one per set of column names."""

    def __init__(self, decode_list: DecodeList) -> None:
        self._decode_list = decode_list
        self._readers: dict[tuple[str, ...], tuple[Reader, Callable[[Any], Any], Reader]] = {}

    def read(self, cursor: Cursor, *, claim_order: bool = False) -> list[Job]:
        """The jobs a statement returned (its other columns ignored)."""
        return self.decode(_columns(cursor), cursor.fetchall(), claim_order=claim_order)

    def read_with(self, cursor: Cursor,
                  extra: Sequence[str]) -> list[tuple[Job, tuple[Any, ...]]]:
        """The jobs a statement returned, each with the values of its ``extra`` columns."""
        return self.decode_with(_columns(cursor), cursor.fetchall(), extra)

    def decode(self, columns: tuple[str, ...], rows: list[Any], *,
               claim_order: bool = False) -> list[Job]:
        """The jobs in ``rows`` (of a statement with these ``columns``; other columns may come
        with them); with ``claim_order``, sorted as workers claim them."""
        if not rows:
            return []
        entry = self._readers.get(columns)
        if entry is None:
            entry = self._readers[columns] = self._new_reader(columns)
        read, claim_key, salvage = entry
        if claim_order:
            try:
                rows.sort(key=claim_key)
            except TypeError:  # text in priority or run_at, by hand: the statement's order
                pass
        try:
            return [read(row) for row in rows]
        except _UNREADABLE:
            return SomeUnreadable(salvage(row) for row in rows)

    def decode_with(self, columns: tuple[str, ...], rows: list[Any],
                    extra: Sequence[str]) -> list[tuple[Job, tuple[Any, ...]]]:
        """The jobs in ``rows``, each with the values of its ``extra`` columns."""
        jobs = self.decode(columns, rows)
        positions = [columns.index(name) for name in extra]
        return [(job, tuple(row[i] for i in positions)) for job, row in zip(jobs, rows,
                                                                          strict=True)]

    def _new_reader(self, columns: tuple[str, ...]
                    ) -> tuple[Reader, Callable[[Any], Any], Reader]:
        # Imported here: enqueueing a job needs neither the dataclass nor this method (nor
        # json and the enum behind JobState).
        import json
        from dataclasses import fields

        from ..models import Job
        from ..states import JobState

        states = {state.value: state for state in JobState}

        # Job's stored fields, in the order of its constructor; each one is a column.
        names = [field.name for field in fields(Job)
                 if field.name not in ("unique_conflict", "unreadable")]
        values_of = itemgetter(*[columns.index(name) for name in names])
        state, env, codes = (names.index(n) for n in ("state", "env", "fatal_exit_codes"))
        flags = [names.index("retry_on_timeout"), names.index("cancel_requested")]
        lists = [codes, names.index("tags"), names.index("depends_on")]  # NULL when empty
        decode_list = self._decode_list

        new_job = object.__new__

        def read(row: Sequence[Any]) -> Job:
            values: list[Any] = list(values_of(row))
            values[state] = states[values[state]]
            if values[env]:  # most jobs have none: the check below costs them nothing
                values[env] = json.loads(values[env])
                if type(values[env]) is not dict:  # '[1]' by hand: not a JSON object
                    raise TypeError("env")
            else:
                values[env] = None
            for index in flags:
                values[index] = bool(values[index])
            for index in lists:
                values[index] = decode_list(values[index]) if values[index] else ()
            # Every field is given, so Job's __init__ (a frozen dataclass: one
            # object.__setattr__ per field, ~40 of them) is skipped: the fields go into the
            # instance's __dict__ at once, a third of the cost of a claimed row.
            job = new_job(Job)
            job.__dict__.update(zip(names, values, strict=True), unique_conflict=False)
            return job

        def salvage(row: Sequence[Any]) -> Job:
            """``read``, or where it fails, the job with what could be read of each field
            and ``unreadable`` saying what could not."""
            try:
                return read(row)
            except _UNREADABLE:
                pass
            values: list[Any] = list(values_of(row))
            problems = _salvage(values, names, states, decode_list)
            job = new_job(Job)
            job.__dict__.update(zip(names, values, strict=True), unique_conflict=False,
                                unreadable="; ".join(problems))
            return job

        priority, run_at, seq = (columns.index(n) for n in ("priority", "run_at", "seq"))

        def claim_key(row: Sequence[Any]) -> tuple[int, float, int]:
            return (-row[priority], row[run_at], row[seq])

        return read, claim_key, salvage


def _salvage(values: list[Any], names: list[str], states: dict[str, JobState],
             decode_list: DecodeList) -> list[str]:
    """Decode ``values`` (a row's, in the order of ``names``) in place, field by field, as
    ``read`` does; what cannot be decoded is left as shown below. The problems found, e.g.
    ``["env is not JSON: '{bad'"]``.

    state: an ``UnknownState`` holding it; env: None; a list: empty; a flag cannot fail.
    """
    import json

    from ..jobspec.text import shown
    from ..states import UnknownState

    problems: list[str] = []
    index = names.index("state")
    raw = values[index]
    values[index] = states.get(raw)
    if values[index] is None:
        problems.append(f"state {shown(raw)} is no state of a job")
        values[index] = UnknownState(raw if isinstance(raw, str) else shown(raw))
    index = names.index("env")
    raw, values[index] = values[index], None
    try:
        env = json.loads(raw) if raw else None
    except _UNREADABLE:
        problems.append(f"env is not JSON: {shown(raw)}")
    else:
        if env is None or isinstance(env, dict):
            values[index] = env
        else:
            problems.append(f"env is not a JSON object: {shown(raw)}")
    for name in ("retry_on_timeout", "cancel_requested"):
        values[names.index(name)] = bool(values[names.index(name)])
    for name in ("fatal_exit_codes", "tags", "depends_on"):
        index = names.index(name)
        raw, values[index] = values[index], ()
        try:
            values[index] = decode_list(raw) if raw else ()
        except _UNREADABLE:
            problems.append(f"{name} is not a JSON list: {shown(raw)}")
    return problems or ["a value queuectl never writes"]


def _columns(cursor: Cursor) -> tuple[str, ...]:
    return tuple(map(_NAME, cursor.description or ()))
