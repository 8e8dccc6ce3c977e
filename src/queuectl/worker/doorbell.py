"""What a worker's coordinator sleeps on: rung by any of its threads through a pipe (a slot's
result or output, a stop request), or by the database through the worker's wake channel (an
enqueue, a stop or cancel request from ``queuectl worker stop`` and the like)."""

from __future__ import annotations

import os
import select
from typing import NamedTuple

from ..storage.base import WakeChannel


class Heard(NamedTuple):
    timed_out: bool  # nothing rang
    from_database: bool  # work may be ready
    check_in: bool  # the database asked the worker to look for a stop request


class Doorbell:
    def __init__(self) -> None:
        self._read = self._write = -1
        self._channel: WakeChannel | None = None

    def open(self) -> None:
        """Make it ringable by the worker's threads (again after ``close``)."""
        if self._read < 0:
            self._read, self._write = os.pipe()
            os.set_blocking(self._read, False)
            os.set_blocking(self._write, False)

    @property
    def listening(self) -> bool:
        return self._channel is not None

    @property
    def reliable(self) -> bool:
        """Whether every wake-up the database sends reaches this worker now (see
        ``WakeChannel.reliable``)."""
        return self._channel is not None and self._channel.reliable

    def listen(self, channel: WakeChannel) -> None:
        """Be rung by the database too, through ``channel``."""
        self._channel = channel

    def ring(self) -> None:
        """Wake the coordinator. Any thread, and signal handlers too: one write, no lock."""
        try:
            os.write(self._write, b"x")
        except OSError:
            pass  # the pipe is full of rings already, or not open (yet, or any more)

    def wait(self, timeout: float | None) -> Heard:
        """Sleep until something rings or ``timeout`` seconds pass (None: no limit)."""
        poller = select.poll()
        poller.register(self._read, select.POLLIN)
        if self._channel is not None:
            # Asked every time: a channel that lost its connection gets a new descriptor.
            poller.register(self._channel.fileno(), select.POLLIN)
        events = poller.poll(None if timeout is None else max(0.0, timeout) * 1000)
        from_database = check_in = False
        for fd, _ in events:
            if fd == self._read:
                try:
                    while os.read(self._read, 4096):
                        pass
                except BlockingIOError:
                    pass
            elif self._channel is not None:
                from_database = True
                check_in = check_in or self._channel.drain()
        return Heard(not events, from_database, check_in)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        # Forget the descriptors before closing them: a late ring must not write into a file
        # that reuses the number.
        fds, self._read, self._write = (self._read, self._write), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)
