"""The hot path: record the runs a worker finished and claim the next jobs, in one transaction.

A worker calls this once per batch, so it is kept small: each outcome is one statement
(``finish_run``, fenced by job id, run number and worker id; one more for a run whose output
was streamed) after one call for the batch's attempts (``close_attempts``, where the driver
does not close them in ``finish_run``), and the claim is one statement (``claim_ready_jobs``,
which also opens the attempts; a batch that reaches a queue with a limit, one per job, that
queue locked).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..states import JobState
from . import run_counts
from .rows import SomeUnreadable

if TYPE_CHECKING:
    from ..models import Job, Outcome
    from .driver import Driver, Transaction
    from .idle import IdleWorkers

log = logging.getLogger("queuectl.storage")


def record_and_claim(
    db: Driver, worker_id: str, outcomes: Sequence[Outcome], limit: int, now: float,
    lease_until: float, queues: Sequence[str] | None = None, idle: IdleWorkers | None = None,
) -> tuple[list[Job], list[Outcome], bool]:
    """Record finished runs and claim up to ``limit`` ready jobs; see ``Store``. With
    ``idle``, a claim that came up short lists the worker as idle (idle.py); the third value
    says whether that listing was written."""
    # The jobs this call buried (claim_ready), logged once the transaction has committed: a
    # try that rolled back (a lost connection, a storage error the worker retries) buried
    # nothing, and its retry buries the job again.
    buried: dict[str, str] = {}

    def step(tx: Transaction) -> tuple[list[Job], list[Outcome], bool]:
        if not tx.in_doubt:
            # An earlier try rolled back, its burials with it. One that may have committed
            # keeps its own: those jobs are dead already, or are buried again by this try.
            buried.clear()
        finished = finish_runs(tx, worker_id, outcomes, sum_counts=True)
        stale = [outcome for outcome, done in zip(outcomes, finished, strict=True) if not done]
        claimed: list[Job] = []
        if tx.in_doubt:
            # The first try may have committed its claims: those jobs are ours already.
            claimed = tx.jobs("claimed_in_call", {"worker_id": worker_id, "now": now},
                              claim_order=True)
        if limit > len(claimed):
            claimed += claim_ready(tx, {
                # A claim held up (a lock, a lost connection) still gets a whole lease.
                "worker_id": worker_id, "lease_until": lease_until + tx.late, "now": now,
                "limit": limit - len(claimed), "queues": tx.array(queues) if queues else None,
            }, buried)
        listed = idle is not None and limit > 0 and idle.note(
            tx, worker_id, limit - len(claimed), now)
        return claimed, stale, listed

    # A claim alone commits without waiting for the disk: a power cut that loses it loses
    # claims only, and those jobs run again (at least once); a result always waits.
    result = db.write(step, claim=True, durable=bool(outcomes))
    for job_id, error in buried.items():
        # As the worker says of a run that failed: this run never reaches the worker.
        log.warning("job %s dead (%s)", job_id, error)
    return result


def finish_runs(tx: Transaction, worker_id: str, outcomes: Sequence[Outcome], *,
                sum_counts: bool = False) -> list[bool]:
    """Record each outcome (its job, its attempt, its streamed output); False where the fence
    refused it. A completed job that others depend on wakes the workers: a dependent may be
    ready now (the database counted it down).

    ``sum_counts``: the outcomes carry the jobs as this worker claimed them (``Outcome.job``),
    so their counts may be summed for the batch (``run_counts``) rather than left to the
    triggers a row at a time (where the driver counts that way)."""
    if not outcomes:
        return []
    sum_counts = sum_counts and run_counts.countable(outcomes)
    if sum_counts:
        tx.run("defer_counting")
    params = [_finish_params(worker_id, outcome) for outcome in outcomes]
    tx.many("close_attempts", params)  # the whole batch's attempts (where the driver needs it)
    finished: list[bool] = []
    for row, outcome, param in zip(tx.each("finish_run", params), outcomes, params,
                                   strict=True):
        finished.append(row is not None)
        if row is None:
            continue
        if outcome.streamed:  # its chunks are in its output now
            tx.run("drop_output_chunks", param)
        if row[0] and outcome.state is JobState.COMPLETED:  # it has dependents
            tx.wake()
    if sum_counts:
        tx.run("end_deferred_counting")
        counts = run_counts.count(
            [outcome for outcome, done in zip(outcomes, finished, strict=True) if done])
        tx.many("count_jobs_moved", counts.moves)
        tx.many("count_runs_per_minute", counts.minutes)
        tx.many("count_runs_per_hour", counts.hours)
    if tx.in_doubt:
        # Refused by the fence, unless the commit we lost track of recorded that outcome.
        finished = [done or tx.one("attempt_recorded", param) is not None
                    for done, param in zip(finished, params, strict=True)]
    return finished


def claim_ready(tx: Transaction, params: dict[str, Any], buried: dict[str, str]) -> list[Job]:
    """Claim up to ``params["limit"]`` ready jobs, best first (``_take_ready``).

    A job whose row cannot be read whole (edited by hand: an env that is not JSON; see
    rows.py) is not handed to a slot, where it would run with part of its settings lost: it
    ends dead in this transaction, its attempt closed, the error naming the field
    (``unreadable row: env is not JSON: '{bad'``), and the claim takes the next ready jobs in
    its place. Retrying it would change nothing until someone fixes the row and runs
    ``queuectl dlq retry``. Each job buried so is added to ``buried`` (its id: its error),
    for the caller to log once the transaction commits.
    """
    claimed = _take_ready(tx, params)
    if not isinstance(claimed, SomeUnreadable):
        return claimed
    runnable: list[Job] = []
    while isinstance(claimed, SomeUnreadable):  # each turn buries some: it ends
        unreadable = claimed.unreadable
        for job in unreadable:
            buried[job.id] = _bury(tx, params, job)
        runnable += [job for job in claimed if job.unreadable is None]
        claimed = _take_ready(tx, {**params, "limit": len(unreadable)})
    return runnable + claimed


def _bury(tx: Transaction, params: dict[str, Any], job: Job) -> str:
    """Record the run just claimed of ``job``, whose row cannot be read, as its last: dead;
    returns the error recorded."""
    error = f"unreadable row: {job.unreadable}"
    tx.run("finish_attempt", {"job_id": job.id, "attempt": job.runs, "now": params["now"],
                              "exit_code": None, "error": error, "output": b"",
                              "output_dropped": 0})
    tx.run("bury_unreadable_job", {"job_id": job.id, "attempt": job.runs, "error": error,
                                   "worker_id": params["worker_id"], "now": params["now"]})
    return error


def _take_ready(tx: Transaction, params: dict[str, Any]) -> list[Job]:
    """Claim up to ``params["limit"]`` ready jobs, best first; ``SomeUnreadable`` if the row
    of one of them cannot be read whole.

    Unlimited queues need no lock: the claim is one statement. A queue with a concurrency
    limit is locked (``lock_queues``) only when one of the best ready jobs is in it, so that
    its claimers take turns and each counts the jobs the others took; those claims go one job
    per statement, each counting the ones before, so that the claim order stays exact across
    limited and unlimited queues. The statement never takes a job of a limited queue it was
    not told is locked, nor one in a batch, so the limit holds whatever calls it.
    """
    locked = sorted(name for (name,) in tx.all("limited_queues_ahead", params))
    if not locked:
        return tx.jobs("claim_ready_jobs", {**params, "locked": tx.array(())},
                       claim_order=True)
    tx.all("lock_queues", {"names": tx.array(locked)})
    claimed: list[Job] = []
    one = {**params, "limit": 1, "locked": tx.array(locked)}
    for _ in range(params["limit"]):
        taken = tx.jobs("claim_ready_jobs", one)
        if not taken:
            break
        claimed += taken
        if isinstance(taken, SomeUnreadable):
            claimed = SomeUnreadable(claimed)
    return claimed


def _finish_params(worker_id: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "job_id": outcome.job_id, "attempt": outcome.attempt, "worker_id": worker_id,
        "state": outcome.state.value, "run_at": outcome.run_at, "exit_code": outcome.exit_code,
        "error": outcome.error, "now": outcome.finished_at, "output": outcome.output,
        "output_dropped": outcome.output_dropped, "streamed": outcome.streamed,
        "started_at": outcome.started_at,
    }
