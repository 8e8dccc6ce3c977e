"""The verbs of the PostgreSQL store that workers use: claim and record, release, rescue,
heartbeats, registrations, wake-ups and streamed output.

Every write for a claimed run is fenced by ``(job id, run number, worker id)``. A worker's
store is patient (see ``postgres_connection``): when the connection dies during COMMIT, the
call runs again with ``in_doubt`` and first looks for what the lost commit may have done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..models import Job, Outcome, WorkerInfo
from .base import (
    INTERRUPTED,
    CheckIn,
    LocalWorker,
    OutputChunk,
    WakeChannel,
    WorkerRegistration,
)
from .postgres_connection import Connector
from .postgres_rows import Q, Row, claim_order, job_of
from .postgres_scheduling import claim_ready
from .postgres_wakeup import JOB, STOP, ListenWakeChannel
from .shared_rows import worker_infos

if TYPE_CHECKING:
    import psycopg


def _finish_params(worker_id: str, outcome: Outcome) -> Row:
    return {
        "job_id": outcome.job_id, "attempt": outcome.attempt, "worker_id": worker_id,
        "state": outcome.state.value, "run_at": outcome.run_at, "exit_code": outcome.exit_code,
        "error": outcome.error, "now": outcome.finished_at, "output": outcome.output,
        "output_dropped": outcome.output_dropped, "streamed": outcome.streamed,
    }


# The claim must walk jobs_ready in claim order and stop after a few rows. Until a queue's
# first ANALYZE, the planner takes the jobs table for empty and would rather sort every ready
# row (measured: 66 ms per claim at 100,000 pending, against 1 ms): no sort, then.
_BEGIN_CLAIM = b"BEGIN; SET LOCAL enable_sort = off"


class WorkerVerbs:
    _db: Connector
    _channel: str

    def _read(self, query: bytes, params: Row | None = None) -> list[Row]:
        def read(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Row]:
            return conn.execute(query, params).fetchall()

        return self._db.run(read, transaction=False)

    def record_and_claim(
        self,
        worker_id: str,
        outcomes: Sequence[Outcome],
        limit: int,
        now: float,
        lease_until: float,
        queues: Sequence[str] | None = None,
    ) -> tuple[list[Job], list[Outcome]]:
        rows, stale = self._db.run(
            lambda conn, in_doubt: self._record_and_claim(
                conn, in_doubt, worker_id, outcomes, limit, now, lease_until, queues),
            begin=_BEGIN_CLAIM,
        )
        rows.sort(key=claim_order)
        return [job_of(row) for row in rows], stale

    def _record_and_claim(
        self, conn: psycopg.Connection[Any], in_doubt: bool, worker_id: str,
        outcomes: Sequence[Outcome], limit: int, now: float, lease_until: float,
        queues: Sequence[str] | None = None,
    ) -> tuple[list[Row], list[Outcome]]:
        """The body of ``record_and_claim``; ``in_doubt``: a try before may have committed."""
        finished = self._finish_all(conn, worker_id, outcomes, in_doubt=in_doubt)
        stale = [outcome for outcome, done in zip(outcomes, finished, strict=True) if not done]
        rows: list[Row] = []
        if in_doubt:
            # The first try may have committed its claims: those jobs are ours already.
            params = {"worker_id": worker_id, "now": now}
            rows = conn.execute(Q["claimed_in_call"], params).fetchall()
        if limit > len(rows):
            params = {"worker_id": worker_id, "lease_until": lease_until, "now": now,
                      "limit": limit - len(rows), "queues": list(queues) if queues else None}
            rows += claim_ready(conn, Q["claim_ready_jobs"], params)
        return rows, stale

    @staticmethod
    def _finish_all(conn: psycopg.Connection[Any], worker_id: str,
                    outcomes: Sequence[Outcome], *, in_doubt: bool = False) -> list[bool]:
        """Record each outcome (in one round trip); False where the fence refused it."""
        if not outcomes:
            return []
        params = [_finish_params(worker_id, outcome) for outcome in outcomes]
        finished: list[bool] = []
        with conn.cursor() as cursor:
            cursor.executemany(Q["finish_run"], params, returning=True)
            while True:  # one result set per outcome
                row = cursor.fetchone()
                finished.append(bool(row and row["finished"]))
                if not cursor.nextset():
                    break
        if in_doubt:
            # Refused by the fence, unless the commit we lost track of recorded that outcome.
            finished = [
                done or conn.execute(Q["attempt_recorded"], param).fetchone() is not None
                for done, param in zip(finished, params, strict=True)
            ]
        return finished

    def release(
        self, worker_id: str, held: Sequence[tuple[str, int]], now: float, *, started: bool
    ) -> None:
        def release(conn: psycopg.Connection[Any], in_doubt: bool) -> None:
            for job_id, attempt in held:
                params: Row = {"job_id": job_id, "attempt": attempt, "worker_id": worker_id,
                               "now": now}
                if not started:
                    if conn.execute(Q["unclaim_job"], params).rowcount == 1:
                        conn.execute(Q["drop_attempt"], params)
                elif conn.execute(Q["release_job"], params).rowcount == 1:
                    conn.execute(Q["finish_attempt"], {
                        **params, "exit_code": None, "output": b"", "output_dropped": 0,
                        "error": INTERRUPTED,
                    })
            self._notify(conn, JOB)

        self._db.run(release)

    def next_run_at(self) -> float | None:
        value = self._read(Q["next_run_at"])[0]["min"]
        return float(value) if value is not None else None

    def register_worker(self, worker: WorkerRegistration, now: float) -> None:
        # From here on this store serves a long-running worker: when the database goes away
        # it waits for it to come back (running jobs keep running) instead of failing.
        self._db.patience = math.inf
        params = {
            "id": worker.id, "host": worker.host, "pid": worker.pid,
            "pid_started": worker.pid_started, "slots": worker.slots, "now": now,
        }
        self._db.run(lambda conn, _: conn.execute(Q["register_worker"], params))

    def unregister_worker(self, worker_id: str) -> None:
        self._db.run(lambda conn, _: conn.execute(Q["unregister_worker"], {"worker_id": worker_id}))

    def heartbeat(self, worker_id: str, now: float, lease_until: float) -> CheckIn:
        def heartbeat(conn: psycopg.Connection[Any], in_doubt: bool) -> CheckIn:
            params = {"worker_id": worker_id, "now": now, "lease_until": lease_until}
            row = conn.execute(Q["worker_heartbeat"], params).fetchone()
            conn.execute(Q["renew_leases"], params)
            cancels = [(r["id"], r["runs"])
                       for r in conn.execute(Q["cancel_requests_of_worker"], params)]
            return CheckIn(row is not None, row["stop_requested"] if row else None, cancels)

        return self._db.run(heartbeat)

    def workers(self) -> list[WorkerInfo]:
        return worker_infos(self._read(Q["list_workers"]))

    def local_workers(self, host: str) -> list[LocalWorker]:
        rows = self._read(Q["local_workers"], {"host": host})
        return [LocalWorker(row["id"], row["pid"], row["pid_started"]) for row in rows]

    def request_stop(self, worker_id: str | None, mode: str) -> list[str]:
        def request(conn: psycopg.Connection[Any], in_doubt: bool) -> list[str]:
            if worker_id is None:
                rows = conn.execute(Q["request_stop_all"], {"mode": mode})
            else:
                rows = conn.execute(Q["request_stop_one"], {"mode": mode, "worker_id": worker_id})
            ids = [row["id"] for row in rows]
            self._notify(conn, STOP)
            return ids

        return self._db.run(request)

    def rescue(
        self,
        now: float,
        decide: Callable[[Job], Outcome],
        *,
        worker_ids: Sequence[str] | None = None,
        forget_workers_before: float | None = None,
    ) -> list[Outcome]:
        def rescue(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Outcome]:
            if worker_ids is None:
                rows = conn.execute(Q["held_jobs_expired"], {"now": now}).fetchall()
            else:
                rows = [
                    row
                    for worker_id in worker_ids
                    for row in conn.execute(Q["held_jobs_of_worker"], {"worker_id": worker_id})
                ]
            rescued = []
            for row in rows:
                job = job_of(row)
                outcome = decide(job)
                if self._finish_all(conn, job.worker_id or "", [outcome]) == [True]:
                    rescued.append(outcome)
            for worker_id in worker_ids or ():
                conn.execute(Q["unregister_worker"], {"worker_id": worker_id})
            if forget_workers_before is not None:
                conn.execute(Q["forget_silent_workers"], {"before": forget_workers_before})
            if rescued:
                self._notify(conn, JOB)
            return rescued

        return self._db.run(rescue)

    def wake_channel(self, worker_id: str) -> WakeChannel:
        return ListenWakeChannel(self._db.connect, self._channel)

    def wake_workers(self, *, stop: bool = False) -> None:
        self._db.run(lambda conn, _: self._notify(conn, STOP if stop else JOB), transaction=False)

    def _notify(self, conn: psycopg.Connection[Any], message: str) -> None:
        conn.execute(Q["notify_workers"], {"channel": self._channel, "message": message})

    def append_output(self, worker_id: str, chunks: Sequence[OutputChunk]) -> None:
        rows = [{"job_id": c.job_id, "attempt": c.attempt, "offset": c.offset, "data": c.data,
                 "worker_id": worker_id} for c in chunks]

        def append(conn: psycopg.Connection[Any], in_doubt: bool) -> None:
            with conn.cursor() as cursor:
                cursor.executemany(Q["append_output_chunk"], rows)

        self._db.run(append)
