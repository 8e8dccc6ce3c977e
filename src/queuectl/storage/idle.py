"""Targeted wake-ups, the store's half: which workers are idle, and how many jobs each takes.

A worker whose claim came up short is listed (``idle_workers``) with the jobs it would take;
one whose claim filled its slots is taken off. A write that makes jobs ready wakes only as
many listed workers as those jobs need (the drivers pick them: see ``driver.Transaction.wake``),
so that an enqueue of one job wakes one worker, not fifty.

The race: an enqueue commits while a worker's claim, which did not see the new job, is about
to list the worker. Where the database picks whom to wake after the enqueue's commit
(PostgreSQL), a worker listed (or re-listed) in that moment may be missed; so a claim that
wrote the worker's listing is followed by one more claim, which sees every job committed
before the listing was. Where writers take turns (SQLite), the listing and the enqueue are
ordered, and the driver picks in the enqueue's own transaction.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .driver import Transaction


class IdleWorkers:
    """The listings of the workers that claim through one store."""

    def __init__(self) -> None:
        self._maybe_listed: set[str] = set()  # a waker may have taken them off since

    def registered(self, worker_id: str) -> None:
        """A registration lists the worker (storage/workers.py)."""
        self._maybe_listed.add(worker_id)

    def note(self, tx: Transaction, worker_id: str, free: int, now: float) -> bool:
        """After a claim: list the worker with ``free`` jobs to take, or take it off the list
        (``free`` 0). Returns whether the listing was written, so that one more claim must
        follow where wake-ups are picked after the commit (see the module)."""
        if free > 0:
            self._maybe_listed.add(worker_id)
            return tx.one("note_idle_worker",
                          {"worker_id": worker_id, "free": free, "now": now}) is not None
        if worker_id in self._maybe_listed:
            self._maybe_listed.discard(worker_id)
            tx.run("forget_idle_worker", {"worker_id": worker_id})
        return False
