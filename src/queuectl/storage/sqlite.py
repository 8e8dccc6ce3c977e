"""The embedded store: one SQLite file in WAL mode.

Every write starts with ``BEGIN IMMEDIATE`` so that writers queue on SQLite's lock (with a
generous ``busy_timeout``) instead of failing with "database is locked" half-way through a
transaction. A claim is one ``UPDATE ... WHERE seq IN (SELECT ... LIMIT n) RETURNING *``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    DuplicateJob,
    InvalidTransition,
    JobNotFound,
    StorageError,
)
from ..jobspec.newjob import Enqueued, NewJob
from ..procs import HOST
from ..states import JobState
from . import normal_path
from .shared_rows import worker_infos
from .sql import load_queries
from .sqlite_reads import SqliteReads
from .sqlite_rows import job_of, jobs_of
from .sqlite_scheduling import (
    SqliteScheduling,
    claim_ready,
    follow_dependencies,
    insert_job_ids,
    insert_jobs,
    kill_dependents,
    redo_dependency_deaths,
)

if TYPE_CHECKING:  # the rest is imported where used: enqueue needs none of it
    from ..models import Attempt, Job, Outcome, WorkerInfo
    from ..schedules import Schedule
    from .base import CheckIn, LocalWorker, OutputChunk, WakeChannel, WorkerRegistration

_HERE = os.path.dirname(__file__)
Q = load_queries(os.path.join(_HERE, "sqlite.sql"))
_MIGRATIONS_DIR = os.path.join(_HERE, "migrations", "sqlite")
MIGRATIONS = sorted(  # the scripts, in order: 0001_initial.sql, ...
    os.path.join(_MIGRATIONS_DIR, name) for name in os.listdir(_MIGRATIONS_DIR)
    if name.endswith(".sql"))
BUSY_TIMEOUT_MS = 60_000
_Result = TypeVar("_Result")  # what an insert returns for a batch: Jobs or Enqueued


def _busy_timeout_ms() -> int:
    """How long a writer waits for another's lock: ``QUEUECTL_BUSY_TIMEOUT`` (a duration; for
    tests and operators who would rather fail fast), else ``BUSY_TIMEOUT_MS``."""
    text = os.environ.get("QUEUECTL_BUSY_TIMEOUT")
    if not text:
        return BUSY_TIMEOUT_MS
    from ..units import parse_duration

    seconds = parse_duration(text, field="QUEUECTL_BUSY_TIMEOUT")
    if not 0 < seconds <= 3600:
        from ..errors import InvalidInput

        raise InvalidInput(f"QUEUECTL_BUSY_TIMEOUT: must be between 1ms and 1h, got {text!r}")
    return max(1, round(seconds * 1000))


def _claim_order(row: sqlite3.Row) -> tuple[int, float, int]:
    return (-row["priority"], row["run_at"], row["seq"])


def _create_private_file(path: str) -> None:
    """Create the database file (and its folder) readable by its owner only."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


class SqliteStorage(SqliteScheduling, SqliteReads):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = normal_path(os.fspath(path), absolute=True)
        self.url = self.path
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        # One connection serves every thread of a process that shares this object (the
        # dashboard's request threads, say); the lock keeps their transactions apart.
        self._lock = threading.RLock()
        self._connect()

    # -- connection and transactions ------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            _create_private_file(self.path)
            busy_ms = _busy_timeout_ms()
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                timeout=busy_ms / 1000,
            )
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            self._migrate(db)
            durability = db.execute(
                "SELECT value FROM config WHERE key = 'durability'"
            ).fetchone()
            level = os.environ.get("QUEUECTL_DURABILITY") or (durability[0] if durability else "")
            db.execute(f"PRAGMA synchronous = {'NORMAL' if level == 'normal' else 'FULL'}")
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        self._db, self._pid = db, os.getpid()
        return db

    @property
    def db(self) -> sqlite3.Connection:
        # A connection must never cross a fork: reconnect in a child process.
        if self._db is None or self._pid != os.getpid():
            return self._connect()
        return self._db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                with open(script, encoding="utf-8") as file:
                    text = file.read()
                for statement in _statements(text):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self.db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageError(f"cannot write to {self.path}: {exc}") from exc
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise StorageError(f"cannot commit to {self.path}: {exc}") from exc

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"cannot read {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    # -- jobs ------------------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], now: float) -> list[Job]:
        return self._insert(insert_jobs, jobs, now)

    def enqueue_ids(self, jobs: Sequence[NewJob], now: float) -> Enqueued:
        return self._insert(insert_job_ids, jobs, now)

    def _insert(self, insert: Callable[[sqlite3.Connection, Sequence[NewJob], float], _Result],
                jobs: Sequence[NewJob], now: float) -> _Result:
        try:
            with self._write() as db:
                stored = insert(db, jobs, now)
                local_workers = [row[0] for row in db.execute(Q["local_worker_ids"], (HOST,))]
        except sqlite3.IntegrityError as exc:
            raise DuplicateJob(self._first_existing([job.id for job in jobs])) from exc
        if local_workers:
            self._send_wakeups(local_workers, stop=False)
        return stored

    def _first_existing(self, job_ids: list[str]) -> str:
        seen: set[str] = set()
        for job_id in job_ids:
            if job_id in seen or self.get(job_id) is not None:
                return job_id
            seen.add(job_id)
        return job_ids[0]

    def get(self, job_id: str) -> Job | None:
        rows = self._read(Q["get_job"], (job_id,))
        return job_of(rows[0]) if rows else None

    def list_jobs(self, state: JobState | None, limit: int, offset: int = 0, *,
                  tag: str | None = None) -> list[Job]:
        if tag is not None:
            return self.jobs_with_tag(tag, state, limit, offset)
        params = {"state": state.value if state else None, "limit": limit, "offset": offset}
        sql = Q["list_jobs_in_state"] if state else Q["list_jobs"]
        return jobs_of(self._read(sql, params))

    def count_by_state(self) -> dict[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        for state, count in self._read(Q["count_by_state"]):
            counts[JobState(state)] = count
        return counts

    def attempts(self, job_id: str) -> list[Attempt]:
        from ..models import Attempt

        with self._lock:  # one snapshot: a run may finish between the two reads otherwise
            self.db.execute("BEGIN")
            try:
                rows = self._read(Q["list_attempts"], (job_id,))
                streamed: dict[int, bytes] = {}
                for number, data in self._read(Q["output_chunks_of_job"], (job_id,)):
                    streamed[number] = streamed.get(number, b"") + data
            finally:
                self.db.execute("COMMIT")
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

    def append_output(self, worker_id: str, chunks: Sequence[OutputChunk]) -> None:
        with self._write() as db:
            db.executemany(Q["append_output_chunk"], [
                {"job_id": c.job_id, "attempt": c.attempt, "offset": c.offset, "data": c.data,
                 "worker_id": worker_id}
                for c in chunks
            ])

    def cancel(self, job_ids: Sequence[str], now: float) -> list[Job]:
        canceled: list[Job] = []
        running_somewhere = False
        with self._write() as db:
            for job_id in job_ids:
                params = {"job_id": job_id, "now": now}
                row = db.execute(Q["cancel_waiting_job"], params).fetchone()
                if row is None:
                    row = db.execute(Q["request_cancel_of_running_job"], params).fetchone()
                    running_somewhere = running_somewhere or row is not None
                if row is None:
                    current = db.execute(Q["get_job"], (job_id,)).fetchone()
                    if current is None:
                        raise JobNotFound(job_id)
                    raise InvalidTransition(
                        f"job {job_id!r} is {current['state']}: only pending, failed or"
                        " processing jobs can be canceled"
                    )
                canceled.append(job_of(row))
            kill_dependents(db, [job.id for job in canceled
                                 if job.state is JobState.CANCELED], now)
        if running_somewhere:
            self.wake_workers(stop=True)  # "check in": the holder kills the job at once
        return canceled

    def retry(self, job_ids: Sequence[str], now: float, *, include_canceled: bool) -> list[Job]:
        retried: list[Job] = []
        with self._write() as db:
            for job_id in job_ids:
                params = {"job_id": job_id, "now": now, "include_canceled": include_canceled}
                try:
                    row = db.execute(Q["retry_job"], params).fetchone()
                except sqlite3.IntegrityError:  # its unique_key is taken by a live job
                    raise InvalidTransition(
                        f"job {job_id!r}: a live job has the same unique_key; nothing retried"
                    ) from None
                if row is None:
                    current = db.execute(Q["get_job"], (job_id,)).fetchone()
                    if current is None:
                        raise JobNotFound(job_id)
                    wanted = "dead or canceled" if include_canceled else "dead"
                    raise InvalidTransition(
                        f"job {job_id!r} is {current['state']}, not {wanted}: nothing retried"
                    )
                retried.append(job_of(row))
            redo_dependency_deaths(db, [job.id for job in retried], now)
            retried = [job_of(db.execute(Q["get_job"], (job.id,)).fetchone()) for job in retried]
        self.wake_workers()
        return retried

    def retry_all_dead(self, now: float, *, tag: str | None = None) -> list[str]:
        with self._write() as db:
            ids = [row[0] for row in db.execute(Q["retry_all_dead"], {"now": now, "tag": tag})]
            redo_dependency_deaths(db, ids, now)
        if ids:
            self.wake_workers()
        return ids

    # -- workers ---------------------------------------------------------------------------

    def record_and_claim(
        self,
        worker_id: str,
        outcomes: Sequence[Outcome],
        limit: int,
        now: float,
        lease_until: float,
        queues: Sequence[str] | None = None,
    ) -> tuple[list[Job], list[Outcome]]:
        stale: list[Outcome] = []
        claimed: list[Job] = []
        with self._write() as db:
            for outcome in outcomes:
                if not self._finish(db, worker_id, outcome, now):
                    stale.append(outcome)
            refused = {id(outcome) for outcome in stale}
            unblocked = follow_dependencies(db, [
                (o.job_id, o.state) for o in outcomes if id(o) not in refused], now)
            if limit > 0:
                params = {"worker_id": worker_id, "lease_until": lease_until, "now": now,
                          "limit": limit, "queues": json.dumps(list(queues)) if queues else None}
                rows = claim_ready(db, Q["claim_ready_jobs"], params)
                db.executemany(
                    Q["insert_attempt"],
                    [(row["id"], row["runs"], worker_id, now) for row in rows],
                )
                rows.sort(key=_claim_order)
                claimed = jobs_of(rows)
        if unblocked:
            self.wake_workers()  # a job waiting on those completions may run now
        return claimed, stale

    @staticmethod
    def _finish(db: sqlite3.Connection, worker_id: str, outcome: Outcome, now: float) -> bool:
        params = {
            "job_id": outcome.job_id, "attempt": outcome.attempt, "worker_id": worker_id,
            "state": outcome.state.value, "run_at": outcome.run_at, "exit_code": outcome.exit_code,
            "error": outcome.error, "now": outcome.finished_at,
        }
        if db.execute(Q["finish_job"], params).rowcount != 1:
            return False
        db.execute(Q["finish_attempt"], {**params, "output": outcome.output,
                                         "output_dropped": outcome.output_dropped})
        if outcome.streamed:
            db.execute(Q["drop_output_chunks"], params)
        return True

    def release(
        self, worker_id: str, held: Sequence[tuple[str, int]], now: float, *, started: bool
    ) -> None:
        from .base import INTERRUPTED

        with self._write() as db:
            for job_id, attempt in held:
                params = {"job_id": job_id, "attempt": attempt, "worker_id": worker_id, "now": now}
                if not started:
                    if db.execute(Q["unclaim_job"], params).rowcount == 1:
                        db.execute(Q["drop_attempt"], params)
                elif db.execute(Q["release_job"], params).rowcount == 1:
                    db.execute(Q["finish_attempt"], {
                        **params, "exit_code": None, "output": b"", "output_dropped": 0,
                        "error": INTERRUPTED,
                    })
        self.wake_workers()

    def next_run_at(self) -> float | None:
        value = self._read(Q["next_run_at"])[0][0]
        return float(value) if value is not None else None

    def register_worker(self, worker: WorkerRegistration, now: float) -> None:
        with self._write() as db:
            db.execute(Q["register_worker"], {
                "id": worker.id, "host": worker.host, "pid": worker.pid,
                "pid_started": worker.pid_started, "slots": worker.slots, "now": now,
            })

    def unregister_worker(self, worker_id: str) -> None:
        with self._write() as db:
            db.execute(Q["unregister_worker"], (worker_id,))

    def heartbeat(self, worker_id: str, now: float, lease_until: float) -> CheckIn:
        from .base import CheckIn

        params = {"worker_id": worker_id, "now": now, "lease_until": lease_until}
        with self._write() as db:
            row = db.execute(Q["worker_heartbeat"], params).fetchone()
            db.execute(Q["renew_leases"], params)
            cancels = [(r[0], r[1]) for r in db.execute(Q["cancel_requests_of_worker"], params)]
        return CheckIn(row is not None, row[0] if row is not None else None, cancels)

    def workers(self) -> list[WorkerInfo]:
        return worker_infos(self._read(Q["list_workers"]))

    def local_workers(self, host: str) -> list[LocalWorker]:
        from .base import LocalWorker

        rows = self._read(Q["local_workers"], (host,))
        return [LocalWorker(row[0], row[1], row[2]) for row in rows]

    def request_stop(self, worker_id: str | None, mode: str) -> list[str]:
        with self._write() as db:
            if worker_id is None:
                ids = [row[0] for row in db.execute(Q["request_stop_all"], {"mode": mode})]
            else:
                params = {"mode": mode, "worker_id": worker_id}
                ids = [row[0] for row in db.execute(Q["request_stop_one"], params)]
        self.wake_workers(stop=True)
        return ids

    def rescue(
        self,
        now: float,
        decide: Callable[[Job], Outcome],
        *,
        worker_ids: Sequence[str] | None = None,
        forget_workers_before: float | None = None,
    ) -> list[Outcome]:
        rescued: list[Outcome] = []
        with self._write() as db:
            if worker_ids is None:
                rows = db.execute(Q["held_jobs_expired"], {"now": now}).fetchall()
            else:
                rows = [
                    row
                    for worker_id in worker_ids
                    for row in db.execute(Q["held_jobs_of_worker"], {"worker_id": worker_id})
                ]
            for row in rows:
                job = job_of(row)
                outcome = decide(job)
                if self._finish(db, job.worker_id or "", outcome, now):
                    rescued.append(outcome)
            follow_dependencies(db, [(o.job_id, o.state) for o in rescued], now)
            for worker_id in worker_ids or ():
                db.execute(Q["unregister_worker"], (worker_id,))
            if forget_workers_before is not None:
                db.execute(Q["forget_silent_workers"], (forget_workers_before,))
        if rescued:
            self.wake_workers()
        return rescued

    def wake_channel(self, worker_id: str) -> WakeChannel:
        from .wakeup import DatagramWakeChannel, channel_address

        return DatagramWakeChannel(channel_address(worker_id))

    def wake_workers(self, *, stop: bool = False) -> None:
        ids = [row[0] for row in self._read(Q["local_worker_ids"], (HOST,))]
        if ids:
            self._send_wakeups(ids, stop=stop)

    @staticmethod
    def _send_wakeups(worker_ids: list[str], *, stop: bool) -> None:
        from .wakeup import channel_address, send_wakeups

        send_wakeups((channel_address(worker_id) for worker_id in worker_ids), stop=stop)

    # -- config ----------------------------------------------------------------------------

    def config_items(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._read(Q["config_items"])}

    def set_config(self, key: str, value: str | None) -> None:
        with self._write() as db:
            if value is None:
                db.execute(Q["unset_config"], (key,))
            else:
                db.execute(Q["set_config"], (key, value))


    def restore(self, settings: Mapping[str, str], jobs: Sequence[Job],
                attempts: Sequence[Attempt], schedules: Sequence[Schedule] = ()) -> None:
        from .restore import attempt_row, first_duplicate, insert_job_sql, job_row, schedule_row
        from .sqlite_scheduling import Q as SCHEDULING

        def as_json(values: tuple[Any, ...]) -> str:
            return json.dumps(list(values))

        try:
            with self._write() as db:
                db.executemany(insert_job_sql(lambda name: f":{name}"),
                               [job_row(job, as_json) for job in jobs])
                # The lookup tables behind tags and dependencies (dependencies that are not
                # stored, purged before the export, are left out).
                importing = {job.id for job in jobs}
                db.executemany(SCHEDULING["insert_dependency"], [
                    (other, job.id) for job in jobs for other in job.depends_on
                    if other in importing or self.get(other) is not None])
                db.executemany(SCHEDULING["insert_tag"],
                               [(tag, job.id) for job in jobs for tag in job.tags])
                db.executemany(Q["restore_attempt"], [attempt_row(a) for a in attempts])
                db.executemany(Q["set_config"], list(settings.items()))
                db.executemany(Q["restore_schedule"], [schedule_row(s) for s in schedules])
        except sqlite3.IntegrityError as exc:
            ids = [job.id for job in jobs]
            if any(self.get(job_id) is not None for job_id in ids):
                raise DuplicateJob(first_duplicate(ids, lambda i: self.get(i) is not None)) from exc
            raise StorageError(f"cannot import into {self.path}: {exc}") from exc


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into complete statements."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement, pending = pending.strip(), ""
            if statement and not all(
                part.strip().startswith("--") or not part.strip()
                for part in statement.splitlines()
            ):
                yield statement
