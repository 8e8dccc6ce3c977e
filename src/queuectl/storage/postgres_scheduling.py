"""The PostgreSQL store's side of scheduling: how jobs with scheduling fields are inserted and
claimed, and the verbs for named queues, recurring schedules and retention.

``PostgresScheduling`` is mixed into ``PostgresStorage``; the functions serve its enqueue and
claim. As in the SQLite store the rules live in SQL (the claim statement and the dependency
trigger of ``0004_scheduling.sql``); what PostgreSQL adds is locking, because its writers do
not queue on one database lock: an enqueue holds its dependencies with ``FOR SHARE`` until it
commits, and claims that may take a limited queue's jobs wait for each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import InvalidInput
from ..models import Enqueued, Job, JobState, NewJob, QueueInfo
from ..recurring import Schedule
from .postgres_connection import Connector
from .postgres_rows import Row, job_of
from .postgres_wakeup import JOB
from .shared_rows import queue_infos
from .sql import load_queries

if TYPE_CHECKING:
    import psycopg

QS = {name: text.encode() for name, text in
      load_queries(Path(__file__).with_name("postgres_scheduling.sql")).items()}
T = TypeVar("T")


def insert_jobs(conn: psycopg.Connection[Any], jobs: Sequence[NewJob], now: float) -> list[Job]:
    """Insert ``jobs`` in order in the caller's transaction; returns them as stored.

    A job whose ``unique_key`` matches a live job is not inserted: that job is returned in its
    place, marked ``unique_conflict``. A job with an unknown dependency is refused; one whose
    dependency is dead or canceled is stored dead.
    """
    if not any(job.unique_key or job.depends_on for job in jobs):
        rows = [_row(job, now) for job in jobs]
        with conn.cursor() as cursor:
            cursor.executemany(QS["insert_job"], rows)  # the common case: one round trip
        return [_stored(job, row) for job, row in zip(jobs, rows, strict=True)]
    stored: list[Job] = []
    for job in jobs:
        row = _row(job, now, *_dependencies(conn, job))
        while conn.execute(QS["insert_job"], row).fetchone() is None:
            live = conn.execute(QS["live_job_with_unique_key"], row).fetchone()
            if live is not None:
                stored.append(replace(job_of(live), unique_conflict=True))
                break
            # The live job finished between the two statements, freeing the key: try again.
        else:
            stored.append(_stored(job, row))
    return stored


def insert_job_ids(conn: psycopg.Connection[Any], jobs: Sequence[NewJob], now: float) -> Enqueued:
    """``insert_jobs``, returning only the ids (see ``Enqueued``): the common case builds no
    ``Job``."""
    if not any(job.unique_key or job.depends_on for job in jobs):
        with conn.cursor() as cursor:
            cursor.executemany(QS["insert_job"], [_row(job, now) for job in jobs])
        return Enqueued([job.id for job in jobs], len(jobs))
    stored = insert_jobs(conn, jobs, now)
    return Enqueued([job.id for job in stored], sum(not job.unique_conflict for job in stored))


def _dependencies(conn: psycopg.Connection[Any], job: NewJob) -> tuple[int, str | None]:
    """``(dependencies not completed, a dead or canceled one)``; unknown ids are refused."""
    if not job.depends_on:
        return 0, None
    rows = conn.execute(QS["dependency_states"], {"ids": list(job.depends_on)}).fetchall()
    states = {row["id"]: row["state"] for row in rows}
    for other in job.depends_on:
        if other not in states:
            raise InvalidInput(f"depends_on: no job with id {other!r}")
    dead = next((o for o in job.depends_on if states[o] in ("dead", "canceled")), None)
    return sum(states[o] != "completed" for o in job.depends_on), dead


def _row(job: NewJob, now: float, waiting_on: int = 0, dead: str | None = None) -> Row:
    return {
        "id": job.id, "command": job.command, "max_retries": job.max_retries, "now": now,
        "cwd": job.cwd, "env": json.dumps(dict(job.env), sort_keys=True) if job.env else None,
        "timeout": job.timeout, "fatal_exit_codes": list(job.fatal_exit_codes) or None,
        "retry_on_timeout": job.retry_on_timeout, "output_limit": job.output_limit,
        "state": "dead" if dead else "pending", "run_at": job.first_run_at(now),
        "priority": job.priority, "queue": job.queue, "unique_key": job.unique_key,
        "tags": list(job.tags) or None, "depends_on": list(job.depends_on) or None,
        "waiting_on": waiting_on, "last_error": f"dependency {dead} dead" if dead else None,
        "backoff_base": job.backoff_base, "backoff_max": job.backoff_max, "jitter": job.jitter,
    }


def _stored(job: NewJob, row: Row) -> Job:
    return Job(
        id=job.id, command=job.command, state=JobState(row["state"]), attempts=0,
        max_retries=job.max_retries, created_at=row["now"], updated_at=row["now"],
        run_at=row["run_at"], priority=job.priority, cwd=job.cwd, env=job.env,
        timeout=job.timeout, last_error=row["last_error"],
        fatal_exit_codes=job.fatal_exit_codes, retry_on_timeout=job.retry_on_timeout,
        output_limit=job.output_limit, queue=job.queue, unique_key=job.unique_key,
        tags=job.tags, depends_on=job.depends_on, waiting_on=row["waiting_on"],
        backoff_base=job.backoff_base, backoff_max=job.backoff_max, jitter=job.jitter,
    )


def claim_ready(conn: psycopg.Connection[Any], claim_sql: bytes, params: Row) -> list[Row]:
    """Run the claim statement for up to ``params["limit"]`` jobs.

    While some queue has a concurrency limit, claims take the limited queues' rows lock first
    (so claimers on every host take turns) and claim one job per statement, each statement
    counting the jobs the ones before took. Without limits, claims never wait for each other.
    """
    if conn.execute(QS["lock_limited_queues"]).fetchall() and params["limit"] > 1:
        rows: list[Row] = []
        for _ in range(params["limit"]):
            taken = conn.execute(claim_sql, {**params, "limit": 1}).fetchall()
            if not taken:
                break
            rows += taken
        return rows
    return conn.execute(claim_sql, params).fetchall()


def redo_dependency_deaths(conn: psycopg.Connection[Any], job_ids: Sequence[str],
                           now: float) -> None:
    """Retried jobs whose dependency is still dead or canceled die again (see the SQL)."""
    if job_ids:
        conn.execute(QS["redo_dependency_deaths"], {"ids": list(job_ids), "now": now})


def _schedule(row: Row) -> Schedule:
    return Schedule(
        name=row["name"], job=json.loads(row["job"]), cron=row["cron"], every=row["every"],
        tz=row["tz"], paused=row["paused"], next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"], last_job_id=row["last_job_id"],
        created_at=row["created_at"],
    )


class PostgresScheduling:
    """Verbs of named queues, recurring schedules and retention, for ``PostgresStorage``."""

    _db: Connector

    if TYPE_CHECKING:  # provided by PostgresStorage
        def _read(self, query: bytes, params: Row | None = None) -> list[Row]: ...

        def _notify(self, conn: psycopg.Connection[Any], message: str) -> None: ...

    def _write(self, operation: Callable[[psycopg.Connection[Any]], T]) -> T:
        return self._db.run(lambda conn, _: operation(conn))

    # -- reading jobs ------------------------------------------------------------------------

    def jobs_with_tag(
        self, tag: str, state: JobState | None, limit: int, offset: int = 0
    ) -> list[Job]:
        params = {"tag": tag, "state": state.value if state else None, "limit": limit,
                  "offset": offset}
        return [job_of(row) for row in self._read(QS["list_jobs_with_tag"], params)]

    def pending_breakdown(self, now: float) -> dict[str, int]:
        row = self._read(QS["pending_breakdown"], {"now": now})[0]
        return {"pending": row["pending"], "scheduled": row["scheduled"],
                "blocked": row["blocked"]}

    # -- named queues ------------------------------------------------------------------------

    def queues(self) -> list[QueueInfo]:
        return queue_infos(self._read(QS["jobs_per_queue"]), self._read(QS["queue_settings"]))

    def set_queue_paused(self, name: str, paused: bool) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            conn.execute(QS["set_queue_paused"], {"name": name, "paused": paused})
            conn.execute(QS["drop_plain_queues"])
            if not paused:
                self._notify(conn, JOB)

        self._write(write)

    def set_queue_limit(self, name: str, limit: int | None) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            conn.execute(QS["set_queue_limit"], {"name": name, "max_running": limit})
            conn.execute(QS["drop_plain_queues"])
            self._notify(conn, JOB)

        self._write(write)

    # -- recurring schedules -----------------------------------------------------------------

    def add_schedule(self, schedule: Schedule, now: float) -> bool:
        """Store a new schedule; False if one with that name exists (nothing changed)."""
        params = {
            "name": schedule.name, "job": json.dumps(dict(schedule.job), sort_keys=True),
            "cron": schedule.cron, "every": schedule.every, "tz": schedule.tz,
            "next_run_at": schedule.next_run_at, "now": now,
        }

        def write(conn: psycopg.Connection[Any]) -> bool:
            added = conn.execute(QS["insert_schedule"], params).rowcount == 1
            if added:
                self._notify(conn, JOB)  # so that workers learn of its first tick now
            return added

        return self._write(write)

    def schedules(self) -> list[Schedule]:
        return [_schedule(row) for row in self._read(QS["list_schedules"])]

    def get_schedule(self, name: str) -> Schedule | None:
        rows = self._read(QS["get_schedule"], {"name": name})
        return _schedule(rows[0]) if rows else None

    def remove_schedule(self, name: str) -> bool:
        return self._write(
            lambda conn: conn.execute(QS["delete_schedule"], {"name": name}).rowcount == 1)

    def set_schedule_paused(self, name: str, paused: bool, next_run_at: float | None) -> bool:
        params = {"name": name, "paused": paused, "next_run_at": next_run_at}

        def write(conn: psycopg.Connection[Any]) -> bool:
            changed = conn.execute(QS["set_schedule_paused"], params).rowcount == 1
            if changed and not paused:
                self._notify(conn, JOB)
            return changed

        return self._write(write)

    def due_schedules(self, now: float) -> list[Schedule]:
        return [_schedule(row) for row in self._read(QS["due_schedules"], {"now": now})]

    def next_schedule_at(self) -> float | None:
        value = self._read(QS["next_schedule_at"])[0]["next"]
        return float(value) if value is not None else None

    def enqueue_tick(
        self, name: str, tick: float, next_run_at: float, job: NewJob | None, now: float
    ) -> Job | None:
        """Enqueue ``job`` for tick ``tick`` of schedule ``name`` and move the schedule on to
        ``next_run_at``, in one transaction, only if no one has taken this tick yet.

        Returns the job (or the live job its unique_key matched), or None if another worker
        took the tick first (or ``job`` is None: the tick is skipped).
        """
        import psycopg

        params = {"name": name, "tick": tick, "next_run_at": next_run_at}

        def write(conn: psycopg.Connection[Any]) -> Job | None:
            if conn.execute(QS["take_tick"], params).rowcount != 1:
                return None
            if job is None:
                return None
            try:
                with conn.transaction():  # a savepoint: the tick moves on either way
                    stored = insert_jobs(conn, [job], now)[0]
            except psycopg.errors.UniqueViolation:
                # The tick's job id exists: this tick was enqueued before (a schedule removed
                # and added again). Enqueue nothing twice; move on.
                return None
            conn.execute(QS["record_tick_job"], {"name": name, "job_id": stored.id})
            self._notify(conn, JOB)
            return stored

        return self._write(write)

    # -- retention ---------------------------------------------------------------------------

    def purge_batch(
        self, state: JobState, before: float, limit: int, after_seq: int = 0
    ) -> tuple[int, int | None]:
        """Delete up to ``limit`` jobs in ``state`` last updated before ``before``, with their
        attempts and output, in one short transaction; oldest first, from ``after_seq`` on.
        Returns ``(deleted, cursor for the next batch or None at the end)``."""
        params: Row = {"state": state.value, "before": before, "limit": limit,
                       "after": after_seq}
        seqs = [row["seq"] for row in self._read(QS["purge_candidates"], params)]
        if not seqs:
            return 0, None
        params = {"state": state.value, "before": before, "seqs": seqs}

        def write(conn: psycopg.Connection[Any]) -> int:
            conn.execute(QS["purge_output_chunks"], params)
            return conn.execute(QS["purge_jobs"], params).rowcount

        deleted = self._write(write)
        return deleted, (seqs[-1] if len(seqs) == limit else None)
