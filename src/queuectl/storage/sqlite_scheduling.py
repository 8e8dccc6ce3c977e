"""The SQLite store's side of scheduling: how jobs with scheduling fields are inserted and
claimed, and the verbs for named queues, recurring schedules and retention.

``SqliteScheduling`` is mixed into ``SqliteStorage``; the functions serve its enqueue and
claim. The rules live in SQL: the claim statement (``claim_ready_jobs`` in sqlite.sql) and
the dependency triggers of ``0004_scheduling.sql``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..jobspec.newjob import Enqueued, NewJob
from ..states import JobState
from .shared_rows import queue_infos
from .sql import load_queries
from .sqlite_rows import job_of, jobs_of

if TYPE_CHECKING:  # imported where used: enqueue needs none of them
    from ..models import Job, QueueInfo
    from ..schedules import Schedule

Q = load_queries(os.path.join(os.path.dirname(__file__), "sqlite_scheduling.sql"))


def insert_jobs(db: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> list[Job]:
    """Insert ``jobs`` in order in the caller's transaction; returns them as stored.

    A job whose ``unique_key`` matches a live job is not inserted: that job is returned in its
    place, marked ``unique_conflict``. A job with an unknown dependency is refused (nothing of
    the transaction is kept); one whose dependency is dead or canceled is stored dead.
    """
    from dataclasses import replace

    inserted = _insert(db, jobs, now)
    if inserted is None:
        return [_stored(job, now) for job in jobs]
    return [replace(job_of(how), unique_conflict=True) if isinstance(how, sqlite3.Row)
            else _stored(job, now, *how) for job, how in zip(jobs, inserted, strict=True)]


def insert_job_ids(db: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> Enqueued:
    """``insert_jobs``, returning only the ids (no ``Job`` built): see ``Enqueued``."""
    inserted = _insert(db, jobs, now)
    if inserted is None:
        return Enqueued([job.id for job in jobs], len(jobs))
    ids = [how["id"] if isinstance(how, sqlite3.Row) else job.id
           for job, how in zip(jobs, inserted, strict=True)]
    return Enqueued(ids, sum(not isinstance(how, sqlite3.Row) for how in inserted))


# How a job was stored: (state, dependencies not completed, last error).
_Stored = tuple[str, int, str | None]


def _insert(
    db: sqlite3.Connection, jobs: Sequence[NewJob], now: float
) -> list[_Stored | sqlite3.Row] | None:
    """Insert ``jobs`` in order; None if every one was stored as given (pending, waiting on
    nothing), else for each job how it was stored, or the row of the live job that holds
    its unique key (then nothing was inserted for it)."""
    if not any(job.unique_key or job.depends_on or job.tags for job in jobs):
        # The common case: one statement per run of jobs of a kind, in order (seq is FIFO).
        for plain, run in groupby(jobs, attrgetter("plain")):
            if plain:
                db.executemany(Q["insert_plain_job"], [(*job[:4], now) for job in run])
            else:
                db.executemany(Q["insert_job"], [_row(job, now) for job in run])
        return None
    inserted: list[_Stored | sqlite3.Row] = []
    for job in jobs:
        waiting_on, dead = _dependencies(db, job)
        if db.execute(Q["insert_job"], _row(job, now, waiting_on, dead)).rowcount == 0:
            live = db.execute(Q["live_job_with_unique_key"], (job.unique_key,)).fetchone()
            inserted.append(live)
            continue
        db.executemany(Q["insert_dependency"], [(other, job.id) for other in job.depends_on])
        db.executemany(Q["insert_tag"], [(tag, job.id) for tag in job.tags])
        inserted.append(("dead", waiting_on, f"dependency {dead} dead") if dead
                        else ("pending", waiting_on, None))
    return inserted


def _dependencies(db: sqlite3.Connection, job: NewJob) -> tuple[int, str | None]:
    """``(dependencies not completed, a dead or canceled one)``; unknown ids are refused."""
    if not job.depends_on:
        return 0, None
    params = {"ids": json.dumps(job.depends_on)}
    states = {row[0]: row[1] for row in db.execute(Q["dependency_states"], params)}
    for other in job.depends_on:
        if other not in states:
            raise InvalidInput(f"depends_on: no job with id {other!r}")
    dead = next((o for o in job.depends_on if states[o] in ("dead", "canceled")), None)
    return sum(states[o] != "completed" for o in job.depends_on), dead


def _row(job: NewJob, now: float, waiting_on: int = 0, dead: str | None = None) -> tuple[Any, ...]:
    """The values of ``insert_job``, in the order of its columns."""
    return (
        job.id, job.command, "dead" if dead else "pending", job.max_retries,
        job.first_run_at(now), now, now, job.cwd,
        json.dumps(dict(job.env), sort_keys=True) if job.env else None,
        job.timeout,
        json.dumps(list(job.fatal_exit_codes)) if job.fatal_exit_codes else None,
        job.retry_on_timeout, job.output_limit,
        job.priority, job.queue, job.unique_key,
        json.dumps(list(job.tags)) if job.tags else None,
        json.dumps(list(job.depends_on)) if job.depends_on else None,
        waiting_on, f"dependency {dead} dead" if dead else None,
        job.backoff_base, job.backoff_max, job.jitter,
    )


def _stored(job: NewJob, now: float, state: str = "pending", waiting_on: int = 0,
            last_error: str | None = None) -> Job:
    from ..models import Job

    return Job(
        id=job.id, command=job.command, state=JobState(state), attempts=0,
        max_retries=job.max_retries, created_at=now, updated_at=now,
        run_at=job.first_run_at(now), priority=job.priority, cwd=job.cwd, env=job.env,
        timeout=job.timeout, last_error=last_error,
        fatal_exit_codes=job.fatal_exit_codes, retry_on_timeout=job.retry_on_timeout,
        output_limit=job.output_limit, queue=job.queue, unique_key=job.unique_key,
        tags=job.tags, depends_on=job.depends_on, waiting_on=waiting_on,
        backoff_base=job.backoff_base, backoff_max=job.backoff_max, jitter=job.jitter,
    )


def claim_ready(db: sqlite3.Connection, claim_sql: str, params: dict[str, Any]) -> list[Any]:
    """Run the claim statement for up to ``params["limit"]`` jobs.

    While some queue has a concurrency limit, jobs are claimed one statement at a time: each
    statement then counts the jobs the ones before took, and the claim order stays exact
    across limited and unlimited queues. The statement refuses to take a limited queue's job
    in a batch, so the limit holds whatever calls it.
    """
    if params["limit"] > 1 and db.execute(Q["queue_limits_exist"]).fetchone()[0]:
        rows: list[Any] = []
        for _ in range(params["limit"]):
            taken = db.execute(claim_sql, {**params, "limit": 1}).fetchall()
            if not taken:
                break
            rows += taken
        return rows
    return db.execute(claim_sql, params).fetchall()


def follow_dependencies(
    db: sqlite3.Connection, finished: Sequence[tuple[str, JobState]], now: float
) -> bool:
    """Update the dependents of jobs that just finished, in the caller's transaction.

    A completed job leaves its dependents one job fewer to wait on; a dead or canceled one
    makes its waiting dependents dead (and theirs in turn). Returns whether some dependent
    is now ready to run, so that the caller wakes the workers.
    """
    completed = [job_id for job_id, state in finished if state is JobState.COMPLETED]
    ended = [job_id for job_id, state in finished if state in _ENDED]
    ready = False
    if len(completed) == 1:  # the usual case: a probe costs a quarter of an empty update
        if db.execute(Q["has_dependents"], (completed[0],)).fetchone()[0]:
            rows = db.execute(Q["complete_dependency"], (completed[0],)).fetchall()
            ready = any(row[0] == 0 and row[1] == "pending" for row in rows)
    elif completed:
        params = {"ids": json.dumps(completed)}
        if db.execute(Q["any_has_dependents"], params).fetchone()[0]:
            rows = db.execute(Q["complete_dependencies"], params).fetchall()
            ready = any(row[0] == 0 and row[1] == "pending" for row in rows)
    kill_dependents(db, ended, now)
    return ready


_ENDED = (JobState.DEAD, JobState.CANCELED)


def kill_dependents(db: sqlite3.Connection, job_ids: Sequence[str], now: float) -> None:
    """Make the waiting dependents of these dead or canceled jobs dead, level by level."""
    while job_ids:
        params = {"ids": json.dumps(list(job_ids)), "now": now}
        job_ids = [row[0] for row in db.execute(Q["kill_dependents"], params)]


def redo_dependency_deaths(db: sqlite3.Connection, job_ids: Sequence[str], now: float) -> None:
    """Retried jobs whose dependency is still dead or canceled die again (see the SQL), and
    so do their own waiting dependents."""
    params = {"ids": json.dumps(list(job_ids)), "now": now}
    kill_dependents(db, [row[0] for row in db.execute(Q["redo_dependency_deaths"], params)], now)


def _schedule(row: sqlite3.Row) -> Schedule:
    from ..schedules import Schedule

    return Schedule(
        name=row["name"], job=json.loads(row["job"]), cron=row["cron"], every=row["every"],
        tz=row["tz"], paused=bool(row["paused"]), next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"], last_job_id=row["last_job_id"],
        created_at=row["created_at"],
    )


class SqliteScheduling:
    """Verbs of named queues, recurring schedules and retention, for ``SqliteStorage``."""

    if TYPE_CHECKING:  # provided by SqliteStorage
        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _read(
            self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
        ) -> list[sqlite3.Row]: ...

        def wake_workers(self, *, stop: bool = False) -> None: ...

    # -- reading jobs ------------------------------------------------------------------------

    def jobs_with_tag(
        self, tag: str, state: JobState | None, limit: int, offset: int = 0
    ) -> list[Job]:
        params = {"tag": tag, "state": state.value if state else None, "limit": limit,
                  "offset": offset}
        return jobs_of(self._read(Q["list_jobs_with_tag"], params))

    def pending_breakdown(self, now: float) -> dict[str, int]:
        """Pending jobs: all of them, those waiting for their time (scheduled) and those
        waiting for dependencies (blocked)."""
        row = self._read(Q["pending_breakdown"], {"now": now})[0]
        return {"pending": row["pending"], "scheduled": row["scheduled"],
                "blocked": row["blocked"]}

    # -- named queues ------------------------------------------------------------------------

    def queues(self) -> list[QueueInfo]:
        return queue_infos(self._read(Q["jobs_per_queue"]), self._read(Q["queue_settings"]))

    def set_queue_paused(self, name: str, paused: bool) -> None:
        with self._write() as db:
            db.execute(Q["set_queue_paused"], {"name": name, "paused": paused})
            db.execute(Q["drop_plain_queues"])
        if not paused:
            self.wake_workers()

    def set_queue_limit(self, name: str, limit: int | None) -> None:
        with self._write() as db:
            db.execute(Q["set_queue_limit"], {"name": name, "max_running": limit})
            db.execute(Q["drop_plain_queues"])
        self.wake_workers()

    # -- recurring schedules -----------------------------------------------------------------

    def add_schedule(self, schedule: Schedule, now: float) -> bool:
        """Store a new schedule; False if one with that name exists (nothing changed)."""
        params = {
            "name": schedule.name, "job": json.dumps(dict(schedule.job), sort_keys=True),
            "cron": schedule.cron, "every": schedule.every, "tz": schedule.tz,
            "next_run_at": schedule.next_run_at, "now": now,
        }
        try:
            with self._write() as db:
                db.execute(Q["insert_schedule"], params)
        except sqlite3.IntegrityError:
            return False
        self.wake_workers()  # so that workers learn of its first tick now
        return True

    def schedules(self) -> list[Schedule]:
        return [_schedule(row) for row in self._read(Q["list_schedules"])]

    def get_schedule(self, name: str) -> Schedule | None:
        rows = self._read(Q["get_schedule"], (name,))
        return _schedule(rows[0]) if rows else None

    def remove_schedule(self, name: str) -> bool:
        with self._write() as db:
            return db.execute(Q["delete_schedule"], (name,)).rowcount == 1

    def set_schedule_paused(self, name: str, paused: bool, next_run_at: float | None) -> bool:
        """Pause or resume; a resumed schedule is next due at ``next_run_at``."""
        params = {"name": name, "paused": paused, "next_run_at": next_run_at}
        with self._write() as db:
            changed = db.execute(Q["set_schedule_paused"], params).rowcount == 1
        if changed and not paused:
            self.wake_workers()
        return changed

    def due_schedules(self, now: float) -> list[Schedule]:
        return [_schedule(row) for row in self._read(Q["due_schedules"], {"now": now})]

    def next_schedule_at(self) -> float | None:
        value = self._read(Q["next_schedule_at"])[0][0]
        return float(value) if value is not None else None

    def enqueue_tick(
        self, name: str, tick: float, next_run_at: float, job: NewJob | None, now: float
    ) -> Job | None:
        """Enqueue ``job`` for the tick ``tick`` of schedule ``name`` and move the schedule on
        to ``next_run_at``, in one transaction, only if no one has taken this tick yet.

        Returns the job (or the live job its unique_key matched), or None if another worker
        took the tick first (or ``job`` is None: the tick is skipped).
        """
        params = {"name": name, "tick": tick, "next_run_at": next_run_at}
        stored: Job | None = None
        with self._write() as db:
            if db.execute(Q["take_tick"], params).rowcount != 1:
                return None
            if job is not None:
                try:
                    stored = insert_jobs(db, [job], now)[0]
                except sqlite3.IntegrityError:
                    # The tick's job id exists: this tick was enqueued before (a schedule
                    # removed and added again). Enqueue nothing twice; move on.
                    stored = None
                else:
                    db.execute(Q["record_tick_job"], {"name": name, "job_id": stored.id})
        if stored is not None:
            self.wake_workers()
        return stored

    # -- retention ---------------------------------------------------------------------------

    def purge_batch(
        self, state: JobState, before: float, limit: int, after_seq: int = 0
    ) -> tuple[int, int | None]:
        """Delete up to ``limit`` jobs in ``state`` last updated before ``before``, with their
        attempts and output, in one short transaction; oldest first, from ``after_seq`` on.

        Returns ``(deleted, cursor)``: pass ``cursor`` as ``after_seq`` for the next batch;
        None means the end was reached.
        """
        params = {"state": state.value, "before": before, "limit": limit, "after": after_seq}
        seqs = [row[0] for row in self._read(Q["purge_candidates"], params)]
        if not seqs:
            return 0, None
        params = {"state": state.value, "before": before, "seqs": json.dumps(seqs)}
        with self._write() as db:
            db.execute(Q["purge_output_chunks"], params)
            deleted = db.execute(Q["purge_jobs"], params).rowcount
        return deleted, (seqs[-1] if len(seqs) == limit else None)
