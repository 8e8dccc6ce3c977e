"""The shared store: one PostgreSQL database for workers on many hosts.

The same contract as the SQLite store (see ``base.py``), with the differences PostgreSQL
allows: a claim skips rows other claimers are locking (``FOR UPDATE SKIP LOCKED``) instead of
queueing on one database-wide lock, and wake-ups reach workers on every host through
``LISTEN``/``NOTIFY``. The tables live in their own schema (``?schema=name``, default
``queuectl``), migrated on open. The driver, psycopg 3, is imported only by this backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import DuplicateJob, InvalidTransition, JobNotFound, StorageError
from ..listing import JobPage, JobQuery, JobRun, RunningJob
from ..models import Attempt, Enqueued, Job, JobState, NewJob
from ..recurring import Schedule
from ..stats import FinishedRun
from . import postgres_migrate, postgres_reads
from .postgres_connection import Connector, parse_url
from .postgres_rows import Q, Row, job_of
from .postgres_scheduling import (
    QS,
    PostgresScheduling,
    insert_job_ids,
    insert_jobs,
    redo_dependency_deaths,
)
from .postgres_wakeup import JOB, STOP, channel_name
from .postgres_workers import WorkerVerbs
from .schema import SchemaStatus

if TYPE_CHECKING:
    import psycopg


T = TypeVar("T")


class _Duplicate(Exception):
    """An id of the batch is stored already (found out after the transaction rolled back)."""


class PostgresStorage(WorkerVerbs, PostgresScheduling):
    def __init__(self, url: str) -> None:
        location = parse_url(url)
        # The URL as given (password included): a worker re-opens its own store from it.
        self.url = url
        self.schema = location.schema
        self._channel = channel_name(location.schema)
        self._db = Connector(location)
        self.migrate()
        stored = self.config_items().get("durability", "")
        if (os.environ.get("QUEUECTL_DURABILITY") or stored) == "normal":
            self._db.synchronous_commit = False
            self._db.run(lambda conn, _: conn.execute("SET synchronous_commit TO off"),
                         transaction=False)

    def migrate(self) -> list[str]:
        """Apply pending migrations (safe to run from many processes at once)."""
        return self._db.run(
            lambda conn, _: postgres_migrate.migrate(conn, self.schema), transaction=False
        )

    def schema_version(self) -> int:
        return self._db.run(
            lambda conn, _: postgres_migrate.current_version(conn, self.schema), transaction=False
        )

    def close(self) -> None:
        self._db.close()

    # -- jobs ------------------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], now: float) -> list[Job]:
        def insert(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Job]:
            stored = self._insert(insert_jobs, conn, jobs, now)
            if any(not job.unique_conflict for job in stored):
                self._notify(conn, JOB)  # delivered when (and only if) the jobs commit
            return stored

        try:
            return self._db.run(insert)
        except _Duplicate:
            raise DuplicateJob(self._first_existing([job.id for job in jobs])) from None

    def enqueue_ids(self, jobs: Sequence[NewJob], now: float) -> Enqueued:
        def insert(conn: psycopg.Connection[Any], in_doubt: bool) -> Enqueued:
            stored = self._insert(insert_job_ids, conn, jobs, now)
            if stored.created:
                self._notify(conn, JOB)  # delivered when (and only if) the jobs commit
            return stored

        try:
            return self._db.run(insert)
        except _Duplicate:
            raise DuplicateJob(self._first_existing([job.id for job in jobs])) from None

    @staticmethod
    def _insert(insert: Callable[[psycopg.Connection[Any], Sequence[NewJob], float], T],
                conn: psycopg.Connection[Any], jobs: Sequence[NewJob], now: float) -> T:
        import psycopg

        try:
            return insert(conn, jobs, now)
        except psycopg.errors.UniqueViolation:
            raise _Duplicate from None

    def _first_existing(self, job_ids: list[str]) -> str:
        stored = {row["id"] for row in self._read(Q["existing_job_ids"], {"ids": job_ids})}
        seen: set[str] = set()
        for job_id in job_ids:
            if job_id in seen or job_id in stored:
                return job_id
            seen.add(job_id)
        return job_ids[0]

    def get(self, job_id: str) -> Job | None:
        rows = self._read(Q["get_job"], {"job_id": job_id})
        return job_of(rows[0]) if rows else None

    def list_jobs(self, state: JobState | None, limit: int, offset: int = 0, *,
                  tag: str | None = None) -> list[Job]:
        if tag is not None:
            return self.jobs_with_tag(tag, state, limit, offset)
        params = {"state": state.value if state else None, "limit": limit, "offset": offset}
        query = Q["list_jobs_in_state"] if state else Q["list_jobs"]
        return [job_of(row) for row in self._read(query, params)]

    def count_by_state(self) -> dict[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        for row in self._read(Q["count_by_state"]):
            counts[JobState(row["state"])] = row["count"]
        return counts

    def attempts(self, job_id: str) -> list[Attempt]:
        def read(conn: psycopg.Connection[Any], in_doubt: bool) -> tuple[list[Row], list[Row]]:
            # One snapshot: a run may finish (and fold its chunks) between the two reads.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            params = {"job_id": job_id}
            return (conn.execute(Q["list_attempts"], params).fetchall(),
                    conn.execute(Q["output_chunks_of_job"], params).fetchall())

        rows, chunks = self._db.run(read)
        streamed: dict[int, bytes] = {}
        for chunk in chunks:
            streamed[chunk["number"]] = streamed.get(chunk["number"], b"") + chunk["data"]
        return [
            Attempt(
                job_id=row["job_id"], number=row["number"], worker_id=row["worker_id"],
                started_at=row["started_at"], finished_at=row["finished_at"],
                exit_code=row["exit_code"], error=row["error"],
                output=row["output"] or streamed.get(row["number"], b""),
                output_dropped=row["output_dropped"],
            )
            for row in rows
        ]

    def cancel(self, job_ids: Sequence[str], now: float) -> list[Job]:
        def cancel(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Job]:
            canceled: list[Job] = []
            running_somewhere = False
            for job_id in job_ids:
                params = {"job_id": job_id, "now": now}
                row = conn.execute(Q["cancel_waiting_job"], params).fetchone()
                if row is None:
                    row = conn.execute(Q["request_cancel_of_running_job"], params).fetchone()
                    running_somewhere = running_somewhere or row is not None
                if row is None:
                    current = conn.execute(Q["get_job"], params).fetchone()
                    if current is None:
                        raise JobNotFound(job_id)
                    raise InvalidTransition(
                        f"job {job_id!r} is {current['state']}: only pending, failed or"
                        " processing jobs can be canceled"
                    )
                canceled.append(job_of(row))
            if running_somewhere:
                self._notify(conn, STOP)  # "check in": the holder kills the job at once
            return canceled

        return self._db.run(cancel)

    def retry(self, job_ids: Sequence[str], now: float, *, include_canceled: bool) -> list[Job]:
        def retry(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Job]:
            import psycopg

            retried: list[Job] = []
            for job_id in job_ids:
                params = {"job_id": job_id, "now": now, "include_canceled": include_canceled}
                try:
                    with conn.transaction():  # a savepoint, to tell this failure apart
                        row = conn.execute(Q["retry_job"], params).fetchone()
                except psycopg.errors.UniqueViolation:  # a live job holds its unique_key
                    raise InvalidTransition(
                        f"job {job_id!r}: a live job has the same unique_key; nothing retried"
                    ) from None
                if row is None:
                    current = conn.execute(Q["get_job"], {"job_id": job_id}).fetchone()
                    if current is None:
                        raise JobNotFound(job_id)
                    wanted = "dead or canceled" if include_canceled else "dead"
                    raise InvalidTransition(
                        f"job {job_id!r} is {current['state']}, not {wanted}: nothing retried"
                    )
                retried.append(job_of(row))
            redo_dependency_deaths(conn, [job.id for job in retried], now)
            # Read again: a retried job whose dependency is still dead is dead again.
            rows = {row["id"]: row for row in conn.execute(
                Q["jobs_by_ids"], {"ids": [job.id for job in retried]})}
            retried = [job_of(rows[job.id]) for job in retried]
            self._notify(conn, JOB)
            return retried

        return self._db.run(retry)

    def retry_all_dead(self, now: float, *, tag: str | None = None) -> list[str]:
        def retry_all(conn: psycopg.Connection[Any], in_doubt: bool) -> list[str]:
            params = {"now": now, "tag": tag}
            ids = [row["id"] for row in conn.execute(Q["retry_all_dead"], params)]
            redo_dependency_deaths(conn, ids, now)
            if ids:
                self._notify(conn, JOB)
            return ids

        return self._db.run(retry_all)

    # -- config ----------------------------------------------------------------------------

    def config_items(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self._read(Q["config_items"])}

    def set_config(self, key: str, value: str | None) -> None:
        def write(conn: psycopg.Connection[Any], in_doubt: bool) -> None:
            if value is None:
                conn.execute(Q["unset_config"], {"key": key})
            else:
                conn.execute(Q["set_config"], {"key": key, "value": value})

        self._db.run(write)

    # -- reads for the dashboard, stats and status --watch -----------------------------------

    def search_jobs(
        self, query: JobQuery, limit: int, *, before: str | None = None, after: str | None = None
    ) -> JobPage:
        return postgres_reads.search_jobs(self._read, query, limit, before=before, after=after)

    def running_jobs(self, limit: int) -> list[RunningJob]:
        return postgres_reads.running_jobs(self._read, limit)

    def finished_runs(
        self, since: float, until: float, limit: int, after: tuple[float, str, int] | None = None
    ) -> list[FinishedRun]:
        return postgres_reads.finished_runs(self._read, since, until, limit, after)

    def latest_runs(self, job_ids: Sequence[str]) -> dict[str, JobRun]:
        return postgres_reads.latest_runs(self._read, job_ids)

    def restore(self, settings: Mapping[str, str], jobs: Sequence[Job],
                attempts: Sequence[Attempt], schedules: Sequence[Schedule] = ()) -> None:
        from .restore import attempt_row, first_duplicate, insert_job_sql, job_row, schedule_row

        insert_job = insert_job_sql(lambda name: f"%({name})s").encode()
        job_rows = [job_row(job, list) for job in jobs]

        def restore(conn: psycopg.Connection[Any], in_doubt: bool) -> None:
            import psycopg

            try:
                with conn.cursor() as cursor:
                    cursor.executemany(insert_job, job_rows)
            except psycopg.errors.UniqueViolation:
                raise _Duplicate from None
            if any(job.depends_on for job in jobs):
                conn.execute(QS["mark_dependencies"], {"ids": [job.id for job in jobs]})
            with conn.cursor() as cursor:
                cursor.executemany(Q["restore_attempt"], [attempt_row(a) for a in attempts])
                cursor.executemany(Q["set_config"],
                                   [{"key": k, "value": v} for k, v in settings.items()])
                cursor.executemany(Q["restore_schedule"], [schedule_row(s) for s in schedules])
            self._notify(conn, JOB)

        try:
            self._db.run(restore)
        except _Duplicate:
            ids = [job.id for job in jobs]
            raise DuplicateJob(first_duplicate(ids, lambda i: self.get(i) is not None)) from None

    def delete_jobs(self, job_ids: Sequence[str]) -> list[str]:
        def delete(conn: psycopg.Connection[Any], in_doubt: bool) -> list[str]:
            for job_id in job_ids:
                if conn.execute(Q["delete_finished_job"], {"job_id": job_id}).fetchone() is None:
                    current = conn.execute(Q["get_job"], {"job_id": job_id}).fetchone()
                    if current is None:
                        raise JobNotFound(job_id)
                    raise InvalidTransition(
                        f"job {job_id!r} is {current['state']}: only completed, dead or canceled "
                        "jobs can be deleted; nothing deleted"
                    )
            return list(job_ids)

        return self._db.run(delete)


def postgres_schema_status(url: str) -> SchemaStatus:
    """The schema's version, read without migrating it."""
    _require_driver()
    location = parse_url(url)
    connector = Connector(location)
    try:
        version = connector.run(
            lambda conn, _: postgres_migrate.current_version(conn, location.schema),
            transaction=False,
        )
    finally:
        connector.close()
    names = [script.stem for script in postgres_migrate.MIGRATIONS]
    return SchemaStatus("postgresql", location.display, version, len(names), names[version:],
                        schema=location.schema)


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StorageError(
            "PostgreSQL support needs the psycopg driver: pip install 'queuectl[postgres]'"
        ) from None


def open_postgres(url: str) -> PostgresStorage:
    """Open the store at ``url``, with a clear message when the driver is missing."""
    _require_driver()
    return PostgresStorage(url)
