"""Storage contract: the wake channel an idle worker sleeps on."""

from __future__ import annotations

import os
import select
from collections.abc import Callable

from queuectl.models import NewJob
from queuectl.procs import HOST
from queuectl.storage import Storage
from queuectl.storage.base import WakeChannel, WorkerRegistration

T0 = 1_767_225_600.0


def _readable(channel: WakeChannel, timeout: float) -> bool:
    return bool(select.select([channel.fileno()], [], [], timeout)[0])


def _sleeping_worker(storage: Storage, worker_id: str) -> WakeChannel:
    storage.register_worker(WorkerRegistration(worker_id, HOST, os.getpid(), None, 1), T0)
    channel = storage.wake_channel(worker_id)
    channel.drain()
    return channel


def test_an_enqueue_elsewhere_wakes_a_sleeping_worker(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    channel = _sleeping_worker(storage, "w1")
    try:
        assert not _readable(channel, 0.05)
        open_store().enqueue([NewJob("j", "true", 0)], T0)
        assert _readable(channel, 10)
        assert channel.drain() is False  # a job, not a stop request
        assert not _readable(channel, 0.05)  # drained
    finally:
        channel.close()


def test_a_stop_request_wakes_the_worker_and_says_so(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    channel = _sleeping_worker(storage, "w1")
    try:
        assert open_store().request_stop("w1", "graceful") == ["w1"]
        assert _readable(channel, 10)
        assert channel.drain() is True
    finally:
        channel.close()


def test_a_retry_from_the_dlq_wakes_the_worker(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    from queuectl.models import JobState, Outcome

    storage.enqueue([NewJob("d", "false", 0)], T0)
    [job], _ = storage.record_and_claim("w0", [], 1, T0, T0 + 30)
    storage.record_and_claim("w0", [Outcome("d", job.runs, JobState.DEAD, T0)], 0, T0, T0)
    channel = _sleeping_worker(storage, "w1")
    try:
        open_store().retry(["d"], T0 + 1, include_canceled=False)
        assert _readable(channel, 10)
        assert channel.drain() is False
    finally:
        channel.close()


def test_a_completed_dependency_wakes_the_worker_for_its_dependent(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    from queuectl.models import JobState, Outcome

    other = open_store()
    other.enqueue([NewJob("first", "true", 0)], T0)
    other.enqueue([NewJob("then", "true", 0, depends_on=("first",))], T0)
    [first], _ = other.record_and_claim("w0", [], 5, T0, T0 + 30)  # "then" must wait
    channel = _sleeping_worker(storage, "w1")
    try:
        done = Outcome("first", first.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
        other.record_and_claim("w0", [done], 0, T0 + 1, T0 + 31)
        assert _readable(channel, 10)
        [then], _ = storage.record_and_claim("w1", [], 5, T0 + 1, T0 + 31)
        assert then.id == "then"
    finally:
        channel.close()
