"""Storage contract: the wake channel an idle worker sleeps on."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from queuectl.hosts import HOST
from queuectl.models import NewJob
from queuectl.storage import Storage
from queuectl.storage.base import WakeChannel, WorkerRegistration

from .conftest import execute_raw

T0 = 1_767_225_600.0
# A wake channel is a name every process of this host shares (storage/sqlite/wakeup.py): the
# workers here carry this run's pid, so that two test runs on one machine never collide.
_RUN = f"-{os.getpid()}"
W0, W1 = "w0" + _RUN, "w1" + _RUN


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
    channel = _sleeping_worker(storage, W1)
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
    channel = _sleeping_worker(storage, W1)
    try:
        assert open_store().request_stop(W1, "graceful") == [W1]
        assert _readable(channel, 10)
        assert channel.drain() is True
    finally:
        channel.close()


def test_a_retry_from_the_dlq_wakes_the_worker(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    from queuectl.models import JobState, Outcome

    storage.enqueue([NewJob("d", "false", 0)], T0)
    [job], _ = storage.record_and_claim(W0, [], 1, T0, T0 + 30)
    storage.record_and_claim(W0, [Outcome("d", job.runs, JobState.DEAD, T0)], 0, T0, T0)
    channel = _sleeping_worker(storage, W1)
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
    other.enqueue([NewJob("first", "true", 0), NewJob("alone", "true", 0)], T0)
    other.enqueue([NewJob("then", "true", 0, depends_on=("first",))], T0)
    first, alone = other.record_and_claim(W0, [], 5, T0, T0 + 30)[0]  # "then" must wait
    channel = _sleeping_worker(storage, W1)
    try:
        # A job that nothing depends on wakes no one when it completes.
        lone = Outcome("alone", alone.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
        other.record_and_claim(W0, [lone], 0, T0 + 1, T0 + 31)
        assert not _readable(channel, 0.05)
        done = Outcome("first", first.runs, JobState.COMPLETED, T0 + 1, exit_code=0)
        other.record_and_claim(W0, [done], 0, T0 + 1, T0 + 31)
        assert _readable(channel, 10)
        [then], _ = storage.record_and_claim(W1, [], 5, T0 + 1, T0 + 31)
        assert then.id == "then"
    finally:
        channel.close()


def _idle_workers(storage: Storage, slots: dict[str, int]) -> dict[str, WakeChannel]:
    """Registered workers whose first claim found nothing: idle, each with its free slots."""
    channels = {}
    for worker_id, free in slots.items():
        storage.register_worker(
            WorkerRegistration(worker_id, HOST, os.getpid(), None, free), T0)
        channels[worker_id] = storage.wake_channel(worker_id)
        assert storage.record_and_claim(worker_id, [], free, T0, T0 + 30)[0] == []
    for channel in channels.values():
        channel.drain()
    return channels


def _woken(channels: dict[str, WakeChannel]) -> list[str]:
    """The workers a wake-up reached (waiting long enough for a delivery across the server):
    up to 0.5 s for a first, then 0.2 s for others of the same enqueue. Every channel is
    watched for the whole of each wait at once (one after the other, proving that nobody was
    woken cost half a second a channel)."""
    by_fd = {channel.fileno(): name for name, channel in channels.items()}
    if not select.select(list(by_fd), [], [], 0.5)[0]:
        return []
    woken: set[str] = set()
    deadline = time.monotonic() + 0.2
    while (left := deadline - time.monotonic()) > 0:
        waiting = [fd for fd, name in by_fd.items() if name not in woken]
        if not waiting:
            break
        woken.update(by_fd[fd] for fd in select.select(waiting, [], [], left)[0])
    for name in woken:
        channels[name].drain()
    return sorted(woken)


def test_an_enqueue_wakes_only_as_many_idle_workers_as_it_has_ready_jobs(
    open_store: Callable[[], Storage]
) -> None:
    stores = [open_store() for _ in range(3)]  # one connection per worker, as in a worker
    producer = open_store()
    channels: dict[str, WakeChannel] = {}
    try:
        for number, store in enumerate(stores):
            channels.update(_idle_workers(store, {f"w{number}{_RUN}": 1}))
        producer.enqueue([NewJob("a", "true", 0)], T0)
        [first] = _woken(channels)
        producer.enqueue([NewJob("b", "true", 0), NewJob("c", "true", 0)], T0)
        second = _woken(channels)
        assert len(second) == 2 and first not in second  # the woken one was taken off
        producer.enqueue([NewJob("d", "true", 0)], T0)
        assert _woken(channels) == []  # nobody is listed as idle any more
    finally:
        for channel in channels.values():
            channel.close()


def test_a_worker_with_free_slots_covers_several_jobs(open_store: Callable[[], Storage]) -> None:
    big, small, producer = open_store(), open_store(), open_store()
    big_id, small_id = "big" + _RUN, "small" + _RUN
    channels = {**_idle_workers(small, {small_id: 1}), **_idle_workers(big, {big_id: 4})}
    try:
        # The most recently idle worker first: "big" alone takes all three.
        producer.enqueue([NewJob(f"j{n}", "true", 0) for n in range(3)], T0)
        assert _woken(channels) == [big_id]
        [claimed, _] = big.record_and_claim(big_id, [], 4, T0, T0 + 30)
        assert len(claimed) == 3
    finally:
        for channel in channels.values():
            channel.close()


def test_a_worker_whose_claim_filled_its_slots_is_not_woken(
    open_store: Callable[[], Storage]
) -> None:
    busy, producer = open_store(), open_store()
    producer.enqueue([NewJob("mine", "true", 0)], T0)
    busy.register_worker(WorkerRegistration("busy" + _RUN, HOST, os.getpid(), None, 1), T0)
    channel = busy.wake_channel("busy" + _RUN)
    try:
        assert len(busy.record_and_claim("busy" + _RUN, [], 1, T0, T0 + 30)[0]) == 1
        channel.drain()
        producer.enqueue([NewJob("next", "true", 0)], T0)
        assert _woken({"busy": channel}) == []
    finally:
        channel.close()


def test_a_delayed_job_wakes_one_worker_to_learn_when(open_store: Callable[[], Storage]) -> None:
    stores = [open_store() for _ in range(2)]
    producer = open_store()
    channels: dict[str, WakeChannel] = {}
    try:
        for number, store in enumerate(stores):
            channels.update(_idle_workers(store, {f"w{number}{_RUN}": 1}))
        producer.enqueue([NewJob(f"later{n}", "true", 0, delay=60.0) for n in range(5)], T0)
        assert len(_woken(channels)) == 1
    finally:
        for channel in channels.values():
            channel.close()


def test_a_worker_id_taken_on_this_host_is_refused_and_leaks_nothing(tmp_path: Path) -> None:
    """Two workers under one id would renew, finish and rescue each other's runs: on SQLite
    the second one's wake channel finds the name taken, and says so in one line. (On
    PostgreSQL a LISTEN is no name one process holds: ids are not checked there.)"""
    import gc
    import warnings

    from queuectl.errors import WorkerIdTaken
    from queuectl.storage import open_storage

    storage = open_storage(str(tmp_path / "queue.db"))
    first = storage.wake_channel(W1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)  # an unclosed socket fails here
            with pytest.raises(WorkerIdTaken, match=f"worker id '{W1}' is taken"):
                storage.wake_channel(W1)
            gc.collect()
    finally:
        first.close()
        storage.close()


def test_a_live_registration_keeps_its_id(storage: Storage) -> None:
    """The registration is the check where no wake channel holds a name (PostgreSQL, hosts
    apart): another process may not register under a live worker's id; the same process may
    register again; a registration whose heartbeat is older than a lease is a lost worker's,
    and is replaced."""
    from queuectl.errors import WorkerIdTaken

    lease = 30.0
    first = WorkerRegistration(W1, "host-a", 1111, None, 2)
    storage.register_worker(first, T0, alive_since=T0 - lease)
    storage.register_worker(first, T0 + 5, alive_since=T0 + 5 - lease)  # again: the same one
    other = WorkerRegistration(W1, "host-b", 2222, None, 4)
    with pytest.raises(WorkerIdTaken, match=f"worker id '{W1}' is taken: a worker on host-a "
                                            r"\(pid 1111\) runs under it"):
        storage.register_worker(other, T0 + 10, alive_since=T0 + 10 - lease)
    [held] = [w for w in storage.workers() if w.id == W1]
    assert (held.host, held.pid, held.slots, held.heartbeat_at) == ("host-a", 1111, 2, T0 + 5)
    # A lease after its last heartbeat the first one is lost: its id may be taken.
    storage.register_worker(other, T0 + 5 + lease + 1, alive_since=T0 + 6)
    [held] = [w for w in storage.workers() if w.id == W1]
    assert (held.host, held.pid, held.slots) == ("host-b", 2222, 4)


@pytest.mark.parametrize("heartbeat", ["inf", "far", "odd"])
def test_a_registration_whose_heartbeat_is_no_time_gives_its_id_up(
        storage: Storage, storage_url: str, heartbeat: str) -> None:
    """A heartbeat that is no time (a hand edit: inf, NaN, text) held its id until it was
    forgotten (text raised in the comparison): another process now takes the id. One that is
    a time keeps it however far ahead: a clock stepped back puts a live worker's there, and
    two workers under one id would finish and rescue each other's runs."""
    from queuectl.errors import WorkerIdTaken

    lease, now = 30.0, T0 + 10
    postgres = "://" in storage_url
    value = {"inf": "'Infinity'::float8" if postgres else "9e999",
             "far": str(T0 + 3 * 86400),
             "odd": "'NaN'::float8" if postgres else "'soon'"}[heartbeat]
    storage.register_worker(WorkerRegistration(W1, "host-a", 1111, None, 2), T0)
    other = WorkerRegistration(W1, "host-b", 2222, None, 4)

    execute_raw(storage, f"UPDATE workers SET heartbeat_at = {now + lease - 1}")
    with pytest.raises(WorkerIdTaken, match=f"worker id '{W1}' is taken"):
        storage.register_worker(other, now, alive_since=now - lease)
    execute_raw(storage, f"UPDATE workers SET heartbeat_at = {value}")
    if heartbeat == "far":
        with pytest.raises(WorkerIdTaken, match=f"worker id '{W1}' is taken"):
            storage.register_worker(other, now, alive_since=now - lease)
        return
    storage.register_worker(other, now, alive_since=now - lease)
    [held] = storage.workers()
    assert (held.host, held.pid, held.heartbeat_at) == ("host-b", 2222, now)
