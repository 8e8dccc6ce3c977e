"""Runs a worker ends before their commands do, and what each is owed once it has ended.

Three things end a held run early:

- a person cancels its job (the heartbeat brings the request): the run is killed and recorded
  as canceled;
- the database says the run is no longer this worker's (its lease ran out and another worker
  rescued the job): it is killed at once, since its result would be refused anyway and the job
  may already run again elsewhere;
- its lease runs out unrenewed while the database is out of reach (see fence.py): the fence's
  thread kills it, or takes it back if no slot started it, and it is given back without
  charging an attempt once the database answers.

The fence's thread writes the runs it ended and the coordinator reads them, under one lock.
Everything else here runs on the coordinator's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from queuectl.worker.backlog import Backlog
from queuectl.worker.fence import LeaseFence, RunKey, report_ended
from queuectl.worker.slots import Finished, SlotPool

from ..clock import Clock
from ..config import Settings
from ..models import Job
from ..storage.base import OutputChunk

log = logging.getLogger("queuectl.worker.loop")


class Interrupts:
    """Ends the runs of ``pool`` that are canceled, lost or fenced; ``ring`` wakes the
    coordinator when the fence ended some."""

    def __init__(self, pool: SlotPool, clock: Clock, ring: Callable[[], None]) -> None:
        self._pool = pool
        self._ring = ring
        self.fence = LeaseFence(clock, self._leases_ran_out)
        self._lock = threading.Lock()
        self._canceled: set[RunKey] = set()  # killed on a person's request
        self._fenced: set[RunKey] = set()  # killed by the fence: give back once ended
        self._fenced_unstarted: list[Job] = []  # taken back by the fence: give back
        self._lost: set[RunKey] = set()  # rescued by others, reported already

    def claimed(self, jobs: Iterable[Job], now: float, lease: float) -> None:
        """Watch the leases of runs just claimed."""
        self.fence.held((((job.id, job.runs), job.lease_until or now + lease) for job in jobs),
                        lease)

    def renewed(self, still_held: list[RunKey], lease_until: float, lease: float) -> None:
        """A heartbeat renewed the leases of ``still_held``: any other run held is lost."""
        self._end_lost_runs(still_held)
        self.fence.renewed(still_held, lease_until, lease)

    def cancel(self, runs: Iterable[RunKey]) -> None:
        for job_id, run in runs:
            if self._pool.kill(job_id, run):
                self._canceled.add((job_id, run))
                log.debug("job %s: cancel requested, killing its process group", job_id)

    def send_signals(self, signals: Iterable[tuple[str, int, str]]) -> None:
        """Signals a person sent to runs (queuectl kill, pause, resume)."""
        for job_id, run, name in signals:
            if self._pool.signal(job_id, run, name):
                log.info("job %s: SIG%s sent to its process group, as asked", job_id, name)

    def take_ended(self, backlog: Backlog, finished: list[Finished],
                   output: Sequence[OutputChunk], settings: Settings, *,
                   forced_stop: bool) -> None:
        """Move ended runs, their output and the runs the fence took back into ``backlog``,
        each marked with why it ended."""
        with self._lock:
            unstarted, self._fenced_unstarted = self._fenced_unstarted, []
            backlog.give_back(unstarted, started=False)
            backlog.take(finished, output, settings, forced_stop=forced_stop,
                         canceled=self._canceled, fenced=self._fenced)

    def _end_lost_runs(self, still_held: list[RunKey]) -> None:
        ours = set(still_held)
        held = self._pool.held_runs()
        self._lost &= set(held)  # runs that ended are forgotten
        for job_id, run in held:
            if (job_id, run) not in ours and (job_id, run) not in self._lost:
                self._lost.add((job_id, run))
                # Unless it ended, or its lease's end killed it already.
                killed = self._pool.kill(job_id, run)
                log.warning("job %s run %d: its lease was lost (another worker rescued the "
                            "job)%s", job_id, run, "; killed its process group" if killed else "")

    def _leases_ran_out(self, runs: list[RunKey]) -> None:
        """End ``runs``, whose leases run out with no renewal (called by the fence's thread)."""
        with self._lock:
            self._fenced.update(runs)  # before the kill: their ends must find them here
            unstarted, killed = self._pool.end_runs(runs)
            self._fenced.difference_update(set(runs) - set(killed))
            self._fenced_unstarted += unstarted
        report_ended([(job.id, job.runs) for job in unstarted], killed)
        if unstarted or killed:
            self._ring()
