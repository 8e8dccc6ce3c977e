"""Time as a parameter: every piece of logic that needs "now" takes a Clock.

Times inside queuectl are POSIX timestamps (float seconds, UTC); they become aware
``datetime`` values only at the edges (models, output).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to; for tests and simulations.

    >>> clock = FakeClock(1_000.0)
    >>> clock.advance(2.5)
    >>> clock.now()
    1002.5
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
