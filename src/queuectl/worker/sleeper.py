"""When a worker's coordinator wakes, and why: the sleep between two steps.

A step does whatever is due without waiting; then the coordinator sleeps as long as nothing
will be due. It wakes at once for a stop not acted on yet, results to record (unless they may
gather a little longer into one commit), output or runs to write, a check-in asked for, or jobs
held ahead to give back; otherwise at the earliest of its heartbeat, its housekeeping (the
housekeeper only), a fallback poll and the next job known to be due. While the database fails
it sleeps until the outage's backoff is over instead. A ring of the doorbell (a slot's result,
a stop request, the database's wake-up) ends a wait early, and the question is asked again.

All of it runs on the coordinator's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from queuectl.worker.claim_plan import ClaimPlan
from queuectl.worker.doorbell import Doorbell
from queuectl.worker.heartbeat import Heartbeat
from queuectl.worker.outage import Outage
from queuectl.worker.slots import SlotPool

from ..clock import Clock

GATHERING = "gathering results into one commit"


class CoordinatorState(NamedTuple):
    """What the coordinator itself holds that decides a wake, read before each decision."""

    stop_unheeded: bool  # a stop (or a change to a forced one) that no step acted on yet
    stopping: bool  # a stop was asked for: claim nothing, housekeep no more
    forced_stop: bool  # a stop "now": running jobs are killed
    writes_waiting: bool  # output, results or runs to give back not written yet
    housekeeping_due: float  # on the Clock: its next housekeeping, if it is the housekeeper


class Sleeper:
    """The coordinator's sleeps between steps, on ``clock`` and ``doorbell``.

    It reads the parts that know when something is due (``plan``, ``heartbeat``, ``outage``,
    ``pool``) and, through ``coordinator``, the coordinator's own state. It changes only what
    a wait brings: ``plan.maybe_ready`` after a wake-up from the database, a check-in asked of
    ``heartbeat``, and ``pool.quiet_below`` while results gather.
    """

    def __init__(
        self,
        clock: Clock,
        doorbell: Doorbell,
        *,
        pool: SlotPool,
        plan: ClaimPlan,
        heartbeat: Heartbeat,
        outage: Outage,
        coordinator: Callable[[], CoordinatorState],
    ) -> None:
        self._clock = clock
        self._doorbell = doorbell
        self._pool = pool
        self._plan = plan
        self._heartbeat = heartbeat
        self._outage = outage
        self._coordinator = coordinator

    def next_wake(self) -> tuple[float | None, str]:
        """How long the coordinator may sleep before a step has something to do (None: until
        rung), and why."""
        now = self._clock.now()
        state = self._coordinator()
        if state.stop_unheeded:
            return 0.0, "stop requested"
        if self._outage.retry_at is not None:
            if state.forced_stop:  # leaving: only the ends of the killed runs matter
                return (0.0 if self._pool.results_waiting() else None), "killed jobs to end"
            return self._outage.retry_at - now, "database failing: retry after a backoff"
        gather = self._plan.gathering()
        if gather is not None:
            if gather and not state.stopping:
                return gather, GATHERING
            return 0.0, "results to record"
        if state.writes_waiting:
            return 0.0, "output or runs to write"
        if self._heartbeat.check_in_due:
            return 0.0, "check for a stop request"
        wakes = [(self._heartbeat.next_tick - now, "heartbeat")]
        if not state.stopping:
            if self._plan.held_too_many():
                return 0.0, "jobs held ahead to give back"
            if self._plan.idle() and self._plan.maybe_ready:
                return 0.0, "jobs may be ready"
            if self._heartbeat.housekeeper:
                wakes.append((state.housekeeping_due - now, "housekeeping"))
            wakes += self._plan.wakes(now)
        return min(wakes)

    def sleep(self) -> None:
        """Sleep until ``next_wake`` says a step has something to do.

        A slot finishing or a wake-up ends a wait early, and the next wake is asked again: a
        result that arrives while others are being gathered does not cut the gathering short.
        A wait that runs its full length ends the sleep (with a FakeClock, time need not move).
        """
        while True:
            timeout, why = self.next_wake()
            if timeout is not None and timeout <= 0:
                return
            gathering = why == GATHERING
            if gathering:
                self._pool.quiet_below = self._plan.gather_results()
            try:
                if self.wait(timeout, why):
                    return
            finally:
                if gathering:
                    self._pool.quiet_below = 0

    def wait(self, timeout: float | None, why: str) -> bool:
        """Wait until a slot finishes, a wake-up arrives or ``timeout`` passes (``why`` says
        what the timeout is for, for the reader and debuggers); whether it timed out."""
        heard = self._doorbell.wait(timeout)
        self._plan.maybe_ready = self._plan.maybe_ready or heard.from_database
        if heard.check_in:
            self._heartbeat.check_in_next_step()
        return heard.timed_out
