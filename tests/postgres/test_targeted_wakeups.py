"""Targeted wake-ups on PostgreSQL: the enqueue that commits while a worker's claim is between
finding nothing and listing the worker as idle wakes no one (it picks after its commit, and
the listing is not committed yet), so the worker looks once more after listing itself."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from queuectl.hosts import HOST
from queuectl.models import NewJob
from queuectl.storage import open_storage
from queuectl.storage.base import WorkerRegistration
from queuectl.storage.idle import IdleWorkers

pytestmark = pytest.mark.postgres
T0 = 1_767_225_600.0


class _EnqueueWhileListing(IdleWorkers):
    """Idle bookkeeping that lets another store enqueue (and commit) right before the
    worker's listing is written, inside the worker's claim transaction."""

    def __init__(self, enqueue: Callable[[], object]) -> None:
        super().__init__()
        self.enqueue = enqueue
        self.done = False

    def note(self, tx: Any, worker_id: str, free: int, now: float) -> bool:
        if not self.done:
            self.done = True
            self.enqueue()
        return super().note(tx, worker_id, free, now)


def test_a_job_enqueued_while_the_worker_lists_itself_idle_is_claimed(pg_url: str) -> None:
    worker, producer = open_storage(pg_url), open_storage(pg_url)
    try:
        worker.register_worker(WorkerRegistration("w", HOST, os.getpid(), None, 1), T0)
        channel = worker.wake_channel("w")
        worker.record_and_claim("w", [], 1, T0, T0 + 30)  # nothing: listed idle
        channel.drain()
        # Taken off the list by a first wake-up, so that the next claim lists it anew.
        producer.enqueue([NewJob("first", "true", 0)], T0)
        assert [job.id for job in worker.record_and_claim("w", [], 2, T0, T0 + 30)[0]] == ["first"]
        worker._idle = _EnqueueWhileListing(
            lambda: producer.enqueue([NewJob("raced", "true", 0)], T0))
        claimed, _ = worker.record_and_claim("w", [], 1, T0, T0 + 30)
        assert [job.id for job in claimed] == ["raced"]
        channel.close()
    finally:
        worker.close()
        producer.close()
