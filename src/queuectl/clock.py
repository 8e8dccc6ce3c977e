"""Time as a parameter: every piece of logic that needs "now", or needs to let time pass,
takes a Clock.

Times inside queuectl are POSIX timestamps (float seconds, UTC); they become aware
``datetime`` values only at the edges (models, output).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # Clock is for the type checker: typing costs every `queuectl enqueue`


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (none if not positive) before returning.

        Library waits (``Queue.wait``, following output, starting a detached worker) pause
        through this, so that under a ``FakeClock`` they take no real time.
        """
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to, or when something sleeps on it; for tests and
    simulations.

    >>> clock = FakeClock(1_000.0)
    >>> clock.advance(2.5)
    >>> clock.sleep(0.5)  # returns at once: the time passes on this clock only
    >>> clock.now()
    1003.0
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds
