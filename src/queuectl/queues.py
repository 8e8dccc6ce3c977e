"""Named queues of a ``Queue`` (``queue.queues``): list them, pause, resume, limit.

>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     q.queues.limit("video", 2)        # at most 2 video jobs run at once, on any worker
...     q.queues.pause("reports")         # workers leave its jobs waiting
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from .jobspec.limits import MAX_QUEUE_LIMIT
from .jobspec.text import queue_name
from .units import whole_number

if TYPE_CHECKING:
    from .models import QueueInfo
    from .storage import Storage


class NamedQueues:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def pause(self, name: str) -> None:
        """Workers stop claiming the queue's jobs; jobs already running finish."""
        self._storage.set_queue_paused(queue_name(name), True)

    def resume(self, name: str) -> None:
        self._storage.set_queue_paused(queue_name(name), False)

    def limit(self, name: str, limit: int | str | None) -> int | None:
        """At most ``limit`` of the queue's jobs run at once, across all workers; ``0``,
        ``"none"`` or None removes the limit. Returns the limit now in force."""
        value = _queue_limit(limit)
        self._storage.set_queue_limit(queue_name(name), value)
        return value

    def list(self) -> builtins.list[QueueInfo]:
        """Every queue that has jobs or a setting, with its jobs per state, pause and limit."""
        return self._storage.queues()


def _queue_limit(limit: int | str | None) -> int | None:
    if limit is None or (isinstance(limit, str) and limit.strip().lower() in ("none", "off")):
        return None
    # int() would cut 1.5 to 1, read b"2" as 2, and fail infinity with OverflowError.
    given: object = limit  # a caller's value, whatever the annotation says
    if isinstance(given, float) and given.is_integer():
        given = int(given)
    if isinstance(given, str):
        try:
            given = int(given)
        except ValueError:
            pass  # refused below, as given
    value = whole_number(given, "limit", 0, MAX_QUEUE_LIMIT, expected="a whole number or none",
                         bounds=f"between 0 (none) and {MAX_QUEUE_LIMIT}")
    return value or None
