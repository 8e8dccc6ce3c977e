"""What every command shares: the database location and a lazily opened Queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..queue import Queue


class Session:
    def __init__(self, database: str | None) -> None:
        self.database = database
        self._queue: Queue | None = None

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            from ..queue import Queue

            self._queue = Queue(self.database)
        return self._queue

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
