"""A worker's view of its database being away: when to try again, what to say, and when it may
take other workers' runs for lost again.

While the database fails (a full disk, a write lock held past the busy timeout, a lost
connection) the worker tries again after a backoff: 0.25 s, doubling, but never longer than a
heartbeat's interval, so that once the database is back this worker renews its leases before
anyone takes its jobs for lost. Afterwards it rescues no one for a lease: the other workers were
likely cut off as long, and their jobs are still running.
"""

from __future__ import annotations

import logging

from ..backoff import ErrorBackoff
from ..clock import Clock
from ..errors import QueuectlError, StorageError
from ..units import format_duration

log = logging.getLogger("queuectl.worker.loop")


def one_line(exc: BaseException) -> str:
    """An error as one line: storage errors are translated already; others get their type."""
    text = str(exc) if isinstance(exc, QueuectlError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


class Outage:
    """Database health as the coordinator met it. Used by the coordinator thread only."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._backoff = ErrorBackoff()
        self.retry_at: float | None = None  # set while the database fails: try again then
        self._since: float | None = None
        self._from_database = True  # what the last error came from (see ``failed``)
        self._rescue_from = 0.0

    @property
    def failing(self) -> bool:
        return self.retry_at is not None

    def failed(self, exc: Exception, *, longest_wait: float, situation: str) -> None:
        """Count an error and log it in one line, with ``situation`` (e.g. "1 job running")."""
        now = self._clock.now()
        delay = min(self._backoff.failed(), longest_wait)
        self.retry_at = now + delay
        if self._since is None:
            self._since = now
        # Storage translates every error of the database into a StorageError. Anything else is
        # a bug or a value no check foresaw, named so: "database error" would send the reader
        # to look at a database that is fine.
        self._from_database = isinstance(exc, StorageError)
        log.error("%s: %s; retrying in %s (%s)",
                  "database error" if self._from_database else "error in the worker",
                  one_line(exc), format_duration(delay), situation)
        if not isinstance(exc, QueuectlError):  # not translated by storage: maybe a bug
            log.debug("the error in full", exc_info=exc)

    def succeeded(self, *, lease: float) -> None:
        """A step went through: if the database was failing, it is back."""
        if self._since is None:
            return
        log.warning("%s after %.1fs; carrying on",
                    "database available again" if self._from_database else "steps go through again",
                    max(0.0, self._clock.now() - self._since))
        self._backoff.succeeded()
        self.retry_at = self._since = None
        self.hold_rescues(lease)

    def hold_rescues(self, lease: float) -> None:
        """Rescue no one for ``lease`` seconds from now."""
        self._rescue_from = self._clock.now() + lease

    def may_rescue(self, now: float) -> bool:
        return self.retry_at is None and now >= self._rescue_from
