"""The database server's clock, read without a round trip: this host's clock plus the offset
measured to the server.

Workers on many hosts compare each other's leases. Were each to write its own clock, a host
whose clock runs a minute ahead would take every other host's live jobs for lost. So a store
on PostgreSQL tells the time by the server: the offset is measured on every new connection
(in the round trip that sets it up) and again once a minute, and ``now()`` costs no I/O (slot
threads call it too).

>>> clock = ServerClock()
>>> clock.measured(server_time=1_000.5, sent=999.0, received=1_000.0)  # this host 1 s slow
>>> round(clock.offset, 3)
1.0
"""

from __future__ import annotations

import time

REFRESH_SECONDS = 60.0
SERVER_TIME = b"SELECT extract(epoch FROM clock_timestamp())::double precision"


class ServerClock:
    def __init__(self) -> None:
        self.offset = 0.0  # server minus this host, in seconds; 0 until first measured
        self._next_refresh = 0.0  # monotonic

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def measured(self, server_time: float, sent: float, received: float) -> None:
        """Take the server's time, read between ``sent`` and ``received`` (this host's clock),
        as that of the midpoint: the error is at most half the round trip."""
        self.offset = server_time - (sent + received) / 2
        self._next_refresh = time.monotonic() + REFRESH_SECONDS

    def due(self) -> bool:
        return time.monotonic() >= self._next_refresh
