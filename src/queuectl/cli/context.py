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
        """The queue, created if it does not exist yet: for commands that add or change."""
        return self._open(create=True)

    @property
    def existing_queue(self) -> Queue:
        """The queue, which must exist: read commands refuse a mistyped ``--db`` (exit 1)
        instead of creating an empty queue there, folders and all."""
        return self._open(create=False)

    def queue_when_reachable(self) -> Queue | None:
        """The queue, for a worker: created if need be, waiting for a database server that
        does not answer yet; None if Ctrl-C or SIGTERM came first."""
        if self._queue is None:
            from ..queue import Queue

            self._queue = Queue.when_reachable(self.database)
        return self._queue

    def job_ids(self, given: tuple[str, ...] | str | None) -> list[str]:
        """The ids a command was given, or else the most recently enqueued job's, as
        ``tsp -t`` and ``tsp -w`` take the last job (exit 1 when there is none)."""
        if isinstance(given, str):
            return [given]
        if given:
            return list(given)
        from ..errors import QueuectlError

        newest = self.existing_queue.listing(limit=1).jobs
        if not newest:
            raise QueuectlError("no jobs yet: give a job id")
        return [newest[0].id]

    def _open(self, *, create: bool) -> Queue:
        if self._queue is None:
            from ..queue import Queue

            self._queue = Queue(self.database, create=create)
        return self._queue

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
