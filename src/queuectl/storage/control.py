"""Steering from outside what runs: a signal for a running job's process group (queuectl kill,
pause, resume) and how many jobs workers run at once (queuectl parallel).

A request is stored in a row and woken up for: the worker holding the job, or the worker
asked, checks in at once (``tx.wake(stop=True)``), takes the request in its heartbeat's
transaction (``workers.heartbeat``) and carries it out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .jobs import not_in_state

if TYPE_CHECKING:
    from ..models import Job
    from .driver import Driver, Transaction


def request_signal(db: Driver, job_id: str, signal: str) -> Job:
    """Ask the worker that runs the job to send ``signal`` (a name such as TERM, STOP for a
    pause, CONT to resume) to its process group; a later request replaces one not taken yet."""

    def write(tx: Transaction) -> Job:
        found = tx.jobs("request_signal", {"job_id": job_id, "signal": signal})
        if not found:
            raise not_in_state(tx, job_id, "only a running job can be signalled")
        tx.wake(stop=True)  # "check in": the holder sends it at once
        return found[0]

    return db.write(write)


def request_slots(db: Driver, slots: int, *, worker_id: str | None,
                  host: str | None) -> list[str]:
    """Ask workers (``worker_id``, or those on ``host``, or every one) to run ``slots`` jobs
    at once from now on; the ids of the workers asked."""

    def write(tx: Transaction) -> list[str]:
        params = {"slots": slots, "worker_id": worker_id, "host": host}
        asked = [row[0] for row in tx.all("request_slots", params)]
        if asked:
            tx.wake(stop=True)
        return asked

    return db.write(write)


def set_worker_slots(db: Driver, worker_id: str, slots: int) -> None:
    """A worker runs ``slots`` jobs at once now (the request, if any, is done)."""
    db.write(lambda tx: tx.run("set_worker_slots", {"worker_id": worker_id, "slots": slots}))
