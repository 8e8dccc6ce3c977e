"""The coordinator's sleeps (worker/sleeper.py) asked by hand on a fake clock, over the real
parts of a worker that is never started and a real SQLite store: what wakes it at once, and
otherwise how long it sleeps and why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.errors import StorageError
from queuectl.worker.doorbell import Doorbell
from queuectl.worker.loop import Worker
from queuectl.worker.sleeper import CoordinatorState, Sleeper

IDLE = CoordinatorState(stop_unheeded=False, stopping=False, forced_stop=False,
                        writes_waiting=False, housekeeping_due=float("inf"))


@dataclass
class Coordinator:
    """The coordinator's own state, as the test sets it."""

    state: CoordinatorState = IDLE

    def set(self, **changes: Any) -> None:  # CoordinatorState's fields
        self.state = self.state._replace(**changes)


@dataclass
class Parts:
    worker: Worker  # never started: only its parts are used
    doorbell: Doorbell
    coordinator: Coordinator
    sleeper: Sleeper


@pytest.fixture
def parts(queue: Queue, clock: FakeClock) -> Iterator[Parts]:
    """A sleeper after the worker's first check-in (it is the housekeeper) and a claim that
    found nothing: no job may be ready until its next poll."""
    worker = queue.worker()
    doorbell, coordinator = Doorbell(), Coordinator()
    doorbell.open()
    sleeper = Sleeper(clock, doorbell, pool=worker._pool, plan=worker._plan,
                      heartbeat=worker._heartbeat, outage=worker._outage,
                      coordinator=lambda: coordinator.state)
    heartbeat = worker._heartbeat
    heartbeat.register(clock.now())
    heartbeat.started(clock.now())
    heartbeat.tick(clock.now(), holding=False, step_began=time.monotonic())
    yield Parts(worker, doorbell, coordinator, sleeper)
    doorbell.close()
    worker.close()


def test_an_idle_worker_sleeps_until_the_earliest_thing_due(
    queue: Queue, clock: FakeClock, parts: Parts
) -> None:
    start = clock.now()
    sleeper, heartbeat, plan = parts.sleeper, parts.worker._heartbeat, parts.worker._plan
    assert sleeper.next_wake() == (0.0, "jobs may be ready")  # nothing claimed yet: look
    queue.enqueue({"command": "true", "delay": "6s"})
    plan.claimed(start, 1, 0, poll_interval=4.0)  # found nothing: next poll in 4 s
    assert (heartbeat.housekeeper, heartbeat.next_tick) == (True, start + 10)
    parts.coordinator.set(housekeeping_due=start + 3)
    assert sleeper.next_wake() == (3.0, "housekeeping")
    heartbeat.housekeeper = False  # as a check-in says when an older worker is alive
    assert sleeper.next_wake() == (4.0, "fallback poll")
    clock.advance(4.5)
    plan.claimed(clock.now(), 1, 0, poll_interval=4.0)
    assert sleeper.next_wake() == (1.5, "a job is due")
    # Stopping: no more claims nor housekeeping, only the heartbeat (stop requests, leases).
    parts.coordinator.set(stopping=True)
    assert sleeper.next_wake() == (5.5, "heartbeat")


def test_what_is_due_now_wakes_it_at_once_in_order(
    clock: FakeClock, parts: Parts
) -> None:
    sleeper, outage = parts.sleeper, parts.worker._outage
    parts.worker._plan.claimed(clock.now(), 1, 0, poll_interval=4.0)
    parts.coordinator.set(writes_waiting=True)
    assert sleeper.next_wake() == (0.0, "output or runs to write")
    outage.failed(StorageError("disk full"), longest_wait=10.0, situation="no job running")
    assert outage.retry_at is not None
    # Nothing is written while the database fails: wait for the backoff.
    assert sleeper.next_wake() == (outage.retry_at - clock.now(),
                                   "database failing: retry after a backoff")
    # Leaving without it: only the ends of killed runs (none here) can wake it, or a ring.
    parts.coordinator.set(stopping=True, forced_stop=True)
    assert sleeper.next_wake() == (None, "killed jobs to end")
    # A stop no step acted on comes first of all.
    parts.coordinator.set(stop_unheeded=True)
    assert sleeper.next_wake() == (0.0, "stop requested")
    outage.succeeded(lease=30.0)
    parts.coordinator.state = IDLE
    parts.worker._heartbeat.check_in_next_step()  # a wake-up that may carry a stop request
    assert sleeper.next_wake() == (0.0, "check for a stop request")


def test_a_ring_ends_a_wait_early_and_a_sleep_ends_at_once_when_a_step_is_due(
    parts: Parts
) -> None:
    parts.doorbell.ring()
    assert parts.sleeper.wait(60.0, "a ring ends it") is False  # not timed out
    assert parts.sleeper.wait(0.0, "nothing rang") is True
    parts.coordinator.set(writes_waiting=True)
    parts.sleeper.sleep()  # returns at once: a step has something to do
