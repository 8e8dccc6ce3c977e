"""What workers do besides claiming: register, heartbeat, give runs back, stream output, stop,
and rescue the runs of workers that died.

Every write for a claimed run is fenced by ``(job id, run number, worker id)``, so that a
stale worker can never overwrite a newer run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import WorkerIdTaken
from ..units import is_number
from .base import INTERRUPTED, CheckIn, LocalWorker

if TYPE_CHECKING:
    from ..models import Job, Outcome, WorkerInfo
    from .base import OutputChunk, WorkerRegistration
    from .driver import Driver, Transaction


def register(db: Driver, worker: WorkerRegistration, now: float,
             alive_since: float | None = None) -> None:
    """Register ``worker``, or renew its registration if this same process made it.

    ``WorkerIdTaken`` if another process, here or on another host, is registered under the
    id with a heartbeat at or after ``alive_since`` (None: any heartbeat), however far ahead
    (a clock stepped back): two workers under one id would renew, finish and rescue each
    other's runs, every write being fenced by the id. Another registration is its lost
    worker's, whose leases have run out, or one whose heartbeat is no time (inf, NaN, text:
    only a hand edit): it is replaced.
    """
    # From here on this store serves a long-running worker: when the database goes away it
    # waits for it to come back (running jobs keep running) instead of failing.
    db.keep_trying()
    params = {"id": worker.id, "host": worker.host, "pid": worker.pid,
              "pid_started": worker.pid_started, "slots": worker.slots, "now": now}

    def write(tx: Transaction) -> None:
        if tx.one("register_worker", params) is None:
            holder = tx.one("worker_holding_id", {"worker_id": worker.id})
            if holder is not None:
                host, pid, heartbeat_at = holder
                if alive_since is None or _live(heartbeat_at, alive_since):
                    raise WorkerIdTaken(worker.id, f"a worker on {host} (pid {pid})")
                tx.run("unregister_worker", {"worker_id": worker.id})
            tx.one("register_worker", params)
        # Idle until its first claim says otherwise: an enqueue meanwhile wakes it.
        tx.one("note_idle_worker", {"worker_id": worker.id, "free": worker.slots, "now": now})

    db.write(write)


def _live(heartbeat_at: object, since: float) -> bool:
    """Whether a heartbeat read back is a time at or after ``since``. Infinity, NaN and text
    (SQLite, by hand) are no time: text compared with a number raised."""
    return is_number(heartbeat_at) and since <= heartbeat_at < float("inf")


def unregister(db: Driver, worker_id: str, *, hand_over: bool = False) -> None:
    def write(tx: Transaction) -> None:
        tx.run("unregister_worker", {"worker_id": worker_id})
        tx.run("forget_idle_worker", {"worker_id": worker_id})
        if hand_over:  # every worker checks in now: the next housekeeper learns it is one
            tx.wake(stop=True)

    db.write(write)


def heartbeat(db: Driver, worker_id: str, now: float, lease_until: float, *,
              holding: bool = True) -> CheckIn:
    def check_in(tx: Transaction) -> CheckIn:
        # Renewed from when the transaction began: a heartbeat retried after an outage
        # must not write a lease that is out of date already.
        lease = lease_until + tx.late
        params = {"worker_id": worker_id, "now": now, "lease_until": lease,
                  "alive_since": now - (lease_until - now), "alive_until": lease_until}
        row = tx.one("worker_heartbeat", params)
        held: list[tuple[str, int]] = []
        cancels: list[tuple[str, int]] = []
        signals: list[tuple[str, int, str]] = []
        if holding:  # an idle worker has no lease to renew, no job to cancel or signal
            held = [(job_id, run) for job_id, run in tx.all("renew_leases", params)]
            cancels = [(job_id, run)
                       for job_id, run in tx.all("cancel_requests_of_worker", params)]
            signals = [(job_id, run, name) for job_id, run, name
                       in tx.all("signal_requests_of_worker", params)]
            if signals:
                tx.run("take_signal_requests", params)
        if row is None:
            return CheckIn(False, None, cancels, signals, held=held, lease_until=lease)
        return CheckIn(True, row[0], cancels, signals, row[1], held=held, lease_until=lease,
                       housekeeper=bool(row[2]), config_version=row[3])

    return db.write(check_in)


def release(db: Driver, worker_id: str, held: Sequence[tuple[str, int]], now: float, *,
            started: bool) -> int:
    """Give back held runs; see ``Store.release``."""

    def give_back(tx: Transaction) -> int:
        given = 0
        for job_id, attempt in held:
            params = {"job_id": job_id, "attempt": attempt, "worker_id": worker_id, "now": now}
            if not started:
                given += tx.run("unclaim_job", params)  # the attempt row goes with it
            elif tx.run("release_job", params) == 1:
                given += 1
                tx.run("finish_attempt", {**params, "exit_code": None, "output": b"",
                                          "output_dropped": 0, "error": INTERRUPTED})
        tx.wake(jobs=given)
        return given

    return db.write(give_back)


def append_output(db: Driver, worker_id: str, chunks: Sequence[OutputChunk]) -> None:
    rows = [{"job_id": c.job_id, "attempt": c.attempt, "offset": c.offset, "data": c.data,
             "worker_id": worker_id} for c in chunks]
    db.write(lambda tx: tx.many("append_output_chunk", rows))


def next_run_at(db: Driver, queues: Sequence[str] | None,
                pending_until: float | None) -> float | None:
    row = db.read(lambda tx: tx.one("next_run_at", {
        "queues": tx.array(queues) if queues else None, "pending_until": pending_until}))
    return _time(row[0]) if row is not None else None


def jobs_come_due(db: Driver, since: float, now: float) -> tuple[int, float | None]:
    row = db.read(lambda tx: tx.one("jobs_come_due", {"since": since, "now": now}))
    if row is None:
        return 0, None
    return int(row[0] or 0), _time(row[1])


def _time(value: object) -> float | None:
    """A run_at read back, or None. Text or bytes (SQLite, by hand) sort after every number
    there, so an earliest run_at that is no number is only of jobs never due (the claim's
    ``run_at <= now`` never holds for them): float() of it failed every worker's step as a
    database error."""
    return float(value) if is_number(value) else None


def workers(db: Driver, alive_since: float | None = None,
            alive_until: float | None = None) -> list[WorkerInfo]:
    from ..models import WorkerInfo

    rows = db.read(lambda tx: tx.all("list_workers", {"alive_since": alive_since,
                                                      "alive_until": alive_until}))
    # The last column is whether it is the housekeeper: NULL (not judged), or 0/1 on SQLite.
    workers = [replace(WorkerInfo(*row[:-1]), housekeeper=bool(row[-1])) for row in rows]
    return [worker if is_number(worker.started_at) and is_number(worker.heartbeat_at)
            # A time edited by hand into text (SQLite) reads as NaN, 'invalid time (nan)',
            # as a job's does: judging the worker by it raised, failing status, worker list
            # and worker stop.
            else replace(worker, started_at=_number_or_nan(worker.started_at),
                         heartbeat_at=_number_or_nan(worker.heartbeat_at))
            for worker in workers]


def _number_or_nan(value: object) -> float:
    return float(value) if is_number(value) else float("nan")


def local_workers(db: Driver, host: str) -> list[LocalWorker]:
    return [LocalWorker(*row) for row in db.read(lambda tx: tx.all("local_workers", (host,)))]


def request_stop(db: Driver, worker_id: str | None, mode: str) -> list[str]:
    def ask(tx: Transaction) -> list[str]:
        if worker_id is None:
            rows = tx.all("request_stop_all", {"mode": mode})
        else:
            rows = tx.all("request_stop_one", {"mode": mode, "worker_id": worker_id})
        tx.wake(stop=True)
        return [row[0] for row in rows]

    return db.write(ask)


def rescue(db: Driver, now: float, decide: Callable[[Job], Outcome | None], *,
           worker_ids: Sequence[str] | None = None,
           forget_workers_before: float | None = None,
           forget_workers_after: float = float("inf"),
           lease: float | None = None) -> list[Outcome]:
    """Fail the runs of lost workers, in one transaction; see ``Store.rescue``."""
    # Here, not at the top: the read commands (status, list) import this module, and the
    # claims' counting (run_counts, rollups, stats, logging) would cost each of them ~9 ms.
    from .claims import finish_runs

    def fail_lost_runs(tx: Transaction) -> list[Outcome]:
        if worker_ids is None:
            held = tx.jobs("held_jobs_expired", {"now": now, "lease": lease})
        else:
            held = [job for worker_id in worker_ids
                    for job in tx.jobs("held_jobs_of_worker", {"worker_id": worker_id})]
        rescued = []
        given_back = 0
        for job in held:
            if job.worker_id is None:  # by hand: fenced by '' from here on (see the query)
                tx.run("adopt_unheld_run", {"job_id": job.id, "attempt": job.runs})
            outcome = decide(job)
            if outcome is None:  # claimed ahead, never started
                given_back += tx.run("unclaim_job", {
                    "job_id": job.id, "attempt": job.runs, "worker_id": job.worker_id or "",
                    "now": now}) == 1
            elif finish_runs(tx, job.worker_id or "", [outcome]) == [True]:
                rescued.append(outcome)
        for worker_id in worker_ids or ():
            tx.run("unregister_worker", {"worker_id": worker_id})
            tx.run("forget_idle_worker", {"worker_id": worker_id})
        if forget_workers_before is not None and tx.run(
                "forget_silent_workers", {"before": forget_workers_before,
                                          "after": forget_workers_after}):
            tx.run("forget_idle_workers_gone")
        if rescued or given_back:
            tx.wake(jobs=len(rescued) + given_back)
        return rescued

    return db.write(fail_lost_runs)
