"""The SQLite store's reads for the dashboard, stats and ``status --watch``, and deletion.

``SqliteReads`` is mixed into ``SqliteStorage``, whose connection, lock and transactions it
uses; its statements are in ``sqlite_reads.sql``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, InvalidTransition, JobNotFound, StorageError
from .sql import load_queries
from .sqlite_rows import job_of, jobs_of

if TYPE_CHECKING:
    from ..listing import JobPage, JobQuery, JobRun, RunningJob
    from ..models import Job
    from ..stats import FinishedRun

Q = load_queries(os.path.join(os.path.dirname(__file__), "sqlite_reads.sql"))
_MAX_SEQ = 2**63 - 1


class SqliteReads:
    """Listings, running jobs, finished runs and deletion, for ``SqliteStorage``."""

    if TYPE_CHECKING:  # provided by SqliteStorage
        path: str

        @property
        def db(self) -> sqlite3.Connection: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _read(
            self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
        ) -> list[sqlite3.Row]: ...

        def get(self, job_id: str) -> Job | None: ...

    def search_jobs(
        self, query: JobQuery, limit: int, *, before: str | None = None, after: str | None = None
    ) -> JobPage:
        from ..listing import JobPage

        # The cursor is a job's seq; one row more than asked says whether another page exists.
        params = {
            "state": query.state.value if query.state else None,
            "text": query.text.lower() if query.text else None,
            "queue": query.queue,
            "limit": limit + 1,
            "cursor": _cursor(after) if after is not None else _cursor(before, _MAX_SEQ),
        }
        in_state = "_in_state" if query.state else ""
        older: str | None
        newer: str | None
        if after is not None:
            rows = self._read(Q["search_jobs_newer" + in_state], params)
            more, rows = len(rows) > limit, rows[:limit]
            rows.reverse()
            newer = str(rows[0]["seq"]) if more else None
            older = str(rows[-1]["seq"]) if rows else after
        else:
            rows = self._read(Q["search_jobs_older" + in_state], params)
            more, rows = len(rows) > limit, rows[:limit]
            older = str(rows[-1]["seq"]) if more else None
            newer = (str(rows[0]["seq"]) if rows else before) if before is not None else None
        return JobPage(jobs_of(rows), older=older, newer=newer)

    def running_jobs(self, limit: int) -> list[RunningJob]:
        from ..listing import RunningJob

        return [RunningJob(job_of(row), row["run_started_at"])
                for row in self._read(Q["running_jobs"], {"limit": limit})]

    def finished_runs(
        self, since: float, until: float, limit: int, after: tuple[float, str, int] | None = None
    ) -> list[FinishedRun]:
        from ..stats import FinishedRun
        from .base import INTERRUPTED

        key = after if after is not None and after[0] >= since else (since, "", -1)
        params = {"after_at": key[0], "after_job": key[1], "after_number": key[2],
                  "until": until, "limit": limit, "interrupted": INTERRUPTED}
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: a window can hold a million runs
        try:
            rows = cursor.execute(Q["finished_runs"], params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc
        # The columns come in FinishedRun's order.
        return [FinishedRun(job_id, number, queue, enqueued_at, started_at, finished_at,
                            bool(succeeded), bool(ended_dead), bool(interrupted))
                for job_id, number, queue, enqueued_at, started_at, finished_at, succeeded,
                ended_dead, interrupted in rows]

    def latest_runs(self, job_ids: Sequence[str]) -> dict[str, JobRun]:
        from ..listing import JobRun

        if not job_ids:
            return {}
        rows = self._read(Q["latest_runs"], {"ids": json.dumps(list(job_ids))})
        return {job_id: JobRun(started_at, finished_at)
                for job_id, started_at, finished_at in rows}

    def delete_jobs(self, job_ids: Sequence[str]) -> list[str]:
        deleted: list[str] = []
        with self._write() as db:
            for job_id in job_ids:
                if db.execute(Q["delete_finished_job"], {"job_id": job_id}).fetchone() is None:
                    current = self.get(job_id)
                    if current is None:
                        raise JobNotFound(job_id)
                    raise InvalidTransition(
                        f"job {job_id!r} is {current.state.value}: only completed, dead or "
                        "canceled "
                        "jobs can be deleted; nothing deleted"
                    )
                deleted.append(job_id)
        return deleted


def _cursor(text: str | None, default: int = 0) -> int:
    """A page cursor back to a seq; a cursor that is not ours is refused, not guessed."""
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"invalid page cursor {text!r}") from None
