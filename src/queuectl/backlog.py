"""What a worker owes its database: results, runs to give back, output of running jobs.

The coordinator puts here everything it has to write, and takes each part out only once the
transaction that wrote it committed. While the database fails (a full disk, a lock held too
long, a lost connection) the backlog simply grows, in memory, and the next step that reaches
the database writes it all: results are recorded late, never lost and never reported before
they were committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Job, Outcome
from .storage import Storage
from .storage.base import OutputChunk


class Backlog:
    """Writes owed, oldest first. Used by the coordinator thread only."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []  # finished runs, to record
        self.chunks: list[OutputChunk] = []  # output of runs still going
        self._unstarted: list[tuple[str, int]] = []  # claimed, never started: give back
        self._interrupted: list[tuple[str, int]] = []  # killed by a forced stop: give back

    def __bool__(self) -> bool:
        """Whether results or runs to give back are owed (output alone does not count: a
        run's result carries all its output)."""
        return bool(self.outcomes or self._unstarted or self._interrupted)

    def describe(self) -> str:
        """What is owed, e.g. "3 results, 1 run to give back"; empty if nothing."""
        parts = []
        if self.outcomes:
            parts.append(counted(len(self.outcomes), "result"))
        given_back = len(self._unstarted) + len(self._interrupted)
        if given_back:
            parts.append(counted(given_back, "run") + " to give back")
        return ", ".join(parts)

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.chunks:  # the result carries the whole output: drop what was not stored yet
            run = (outcome.job_id, outcome.attempt)
            self.chunks = [c for c in self.chunks if (c.job_id, c.attempt) != run]

    def give_back(self, jobs: Iterable[Job], *, started: bool) -> None:
        """Owe the release of ``jobs``' runs (``started``: killed by a forced stop)."""
        (self._interrupted if started else self._unstarted).extend(
            (job.id, job.runs) for job in jobs)

    def write_output(self, storage: Storage, worker_id: str) -> None:
        if self.chunks:
            storage.append_output(worker_id, self.chunks)
            self.chunks = []

    def write_give_backs(self, storage: Storage, worker_id: str, now: float) -> str:
        """Release the runs owed back; returns what was given back, e.g. "2 interrupted runs"."""
        done = []
        if self._unstarted:
            storage.release(worker_id, self._unstarted, now, started=False)
            self._unstarted = []
        if self._interrupted:
            storage.release(worker_id, self._interrupted, now, started=True)
            done.append(counted(len(self._interrupted), "interrupted job"))
            self._interrupted = []
        return ", ".join(done)


def counted(number: int, noun: str) -> str:
    """``counted(2, "job") == "2 jobs"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
