"""Waiting on jobs from outside a worker: until they finish, or for their output to grow.

These poll the store (every 50 ms for waits, 200 ms for output) rather than listen for
wake-ups: they are run by people and scripts, one at a time, and must work on any backend.
They pause through the caller's ``Clock``, so that under a ``FakeClock`` they take no real time.

A PostgreSQL server that goes away meanwhile (a restart) does not end them: they wait on, as
workers do, until it answers again (or the wait's timeout runs out), and say so through
``on_outage`` once when it goes and once when it is back. ``queuectl wait build && deploy``
failed on a server restart of a few seconds that every worker rode out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from .backoff import ErrorBackoff
from .clock import Clock
from .errors import DatabaseUnreachable, InvalidTransition, JobNotFound
from .models import TERMINAL_STATES, Attempt, Job
from .states import UnknownState
from .storage import Storage

WAIT_POLL_SECONDS = 0.05
FOLLOW_POLL_SECONDS = 0.2


class ReadOutage:
    """The database away during a wait (this module's, and worker stop's): said once as it
    goes, once more when it is back."""

    def __init__(self, clock: Clock, on_outage: Callable[[str], None] | None) -> None:
        self._clock = clock
        self._say = on_outage or (lambda line: None)
        self._backoff = ErrorBackoff(cap=1.0)  # back within a second of the server
        self._since: float | None = None

    def failed(self, exc: DatabaseUnreachable, deadline: float | None) -> float:
        """The pause before the next read; ``exc`` raised once ``deadline`` has passed."""
        now = self._clock.now()
        if deadline is not None and now >= deadline:
            raise exc
        if self._since is None:
            self._since = now
            self._say(f"{exc}; waiting on until it answers")
        pause = self._backoff.failed()
        return pause if deadline is None else max(0.0, min(pause, deadline - now))

    def succeeded(self) -> bool:
        """A read went through; True if the database was away until now."""
        if self._since is not None:
            self._say(f"the database answers again after"
                      f" {self._clock.now() - self._since:.1f}s; waiting on")
            self._since = None
            self._backoff.succeeded()
            return True
        return False


def wait_for_jobs(
    storage: Storage, job_ids: Sequence[str], clock: Clock, timeout: float | None,
    on_outage: Callable[[str], None] | None = None,
) -> list[Job]:
    """The jobs once all are terminal, or as they are when ``timeout`` runs out.

    A job in a state no queuectl writes (a row edited by hand: ``UnknownState``) is refused at
    once (``InvalidTransition``): no worker moves it, so it would never finish.
    """
    deadline = None if timeout is None else clock.now() + timeout
    outage = ReadOutage(clock, on_outage)
    while True:
        try:
            jobs = [_get(storage, job_id) for job_id in job_ids]
        except DatabaseUnreachable as exc:
            clock.sleep(outage.failed(exc, deadline))
            continue
        outage.succeeded()
        for job in jobs:
            if isinstance(job.state, UnknownState):
                from .jobspec.text import shown

                raise InvalidTransition(
                    f"cannot wait for job {shown(job.id)}: its state {shown(job.state.value)}"
                    f" is no state of a job, so it never finishes (fix its row or remove it"
                    f" with queuectl remove {job.id})")
        if all(job.state in TERMINAL_STATES for job in jobs):
            return jobs
        if deadline is not None and clock.now() >= deadline:
            return jobs
        pause = WAIT_POLL_SECONDS
        if deadline is not None:
            pause = min(pause, deadline - clock.now())
        clock.sleep(pause)


def follow_output(
    storage: Storage, job_id: str, clock: Clock, number: int | None = None,
    on_outage: Callable[[str], None] | None = None,
) -> Iterator[bytes | Attempt]:
    """Yield the output of a run as it grows; the last item is the finished ``Attempt``.

    Without ``number`` it follows the latest run, waiting for one to start if need be. A job
    that is final without that run (canceled while it waited, dead through a dependency, or
    asked for an attempt it never had) never gets it: ``InvalidTransition``.
    """
    shown = 0
    outage = ReadOutage(clock, on_outage)
    while True:
        try:
            job = _get(storage, job_id)  # read before its attempts: final then, final for them
            attempt = _attempt(storage, job, number)
        except DatabaseUnreachable as exc:
            clock.sleep(outage.failed(exc, None))
            continue
        outage.succeeded()
        if attempt is None and job.state in TERMINAL_STATES:
            wanted = "never ran" if number is None else f"has no attempt {number}"
            raise InvalidTransition(f"job {job.id!r} is {job.state.value} and {wanted}"
                                    + (": no output to follow" if number is None else ""))
        if attempt is not None:
            if number is None:
                number = attempt.number  # stay with this run even if a retry starts
            if len(attempt.output) > shown:
                yield attempt.output[shown:]
                shown = len(attempt.output)
            if attempt.finished_at is not None:
                yield attempt
                return
        clock.sleep(FOLLOW_POLL_SECONDS)


def _get(storage: Storage, job_id: str) -> Job:
    job = storage.get(job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


def _attempt(storage: Storage, job: Job, number: int | None) -> Attempt | None:
    attempts = storage.attempts(job.id)
    if number is None:
        return attempts[-1] if attempts else None
    return next((a for a in attempts if a.number == number), None)
