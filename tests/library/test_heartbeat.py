"""The heartbeat (worker/heartbeat.py) stepped by hand on a fake clock, over a real SQLite
store: when it checks in, and what a check-in changes and asks of the worker's parts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from tests.storage.conftest import execute_raw

from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.models import WorkerInfo
from queuectl.worker.heartbeat import Heartbeat
from queuectl.worker.outage import Outage


@dataclass
class Asked:
    """What check-ins asked of the worker's parts."""

    resized: list[int] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)
    hook_rings: int = 0

    def ring_hooks(self) -> None:
        self.hook_rings += 1


@pytest.fixture
def asked() -> Asked:
    return Asked()


@pytest.fixture
def heartbeat(queue: Queue, clock: FakeClock, asked: Asked) -> Iterator[Heartbeat]:
    """A started heartbeat of a worker that is never started: only its parts are used."""
    worker = queue.worker()
    beat = Heartbeat(queue.storage, worker.id, {}, slots=1, interrupts=worker._interrupts,
                     outage=Outage(clock), resize_pool=asked.resized.append,
                     ring_hooks=asked.ring_hooks, asked_to_stop=asked.stops.append)
    beat.register(clock.now())
    beat.started(clock.now())
    yield beat
    worker.close()


def _tick(heartbeat: Heartbeat, clock: FakeClock, *, holding: bool = False) -> None:
    heartbeat.tick(clock.now(), holding=holding, step_began=time.monotonic())


def _registered(queue: Queue) -> WorkerInfo:
    [worker] = queue.storage.workers()
    return worker


def test_it_checks_in_at_once_then_every_third_of_a_lease(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat
) -> None:
    start = clock.now()
    assert heartbeat.interval == queue.settings.lease_duration / 3 == 10.0
    assert heartbeat.due(start)  # at once: to learn whether it is the housekeeper
    _tick(heartbeat, clock)
    assert not heartbeat.due(start)
    assert heartbeat.next_tick == start + 10
    clock.advance(9.5)
    assert not heartbeat.due(clock.now())
    # A check-in asked for early (a wake-up that may bring a stop request) is not a full
    # tick: the next one stays where it was.
    heartbeat.check_in_next_step()
    assert heartbeat.due(clock.now())
    _tick(heartbeat, clock)
    assert _registered(queue).heartbeat_at == start + 9.5
    assert (heartbeat.due(clock.now()), heartbeat.next_tick) == (False, start + 10)
    clock.advance(0.5)
    assert heartbeat.due(clock.now())
    _tick(heartbeat, clock)
    assert heartbeat.next_tick == start + 20


def test_settings_are_read_again_only_when_a_stored_one_changed(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat
) -> None:
    _tick(heartbeat, clock)
    read = heartbeat.settings
    clock.advance(10)
    _tick(heartbeat, clock)
    assert heartbeat.settings is read
    queue.config_set("lease", "60s")
    clock.advance(10)
    _tick(heartbeat, clock)
    assert heartbeat.settings.lease_duration == 60.0
    # The full tick that brought them is scheduled by them already.
    assert heartbeat.next_tick == clock.now() + 20


def test_a_setting_stored_by_hand_that_config_set_refuses_leaves_the_settings_in_use(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat, asked: Asked,
    caplog: pytest.LogCaptureFixture
) -> None:
    """Refused in every check-in, it made each one fail as a database error: the worker
    claimed nothing and heard no stop request until the row was fixed."""
    queue.config_set("poll_interval", "5s")
    _tick(heartbeat, clock)
    read = heartbeat.settings
    execute_raw(queue.storage, "UPDATE config SET value = 'abc' WHERE key = 'poll_interval'")
    queue.storage.request_stop(_registered(queue).id, "graceful")
    with caplog.at_level(logging.ERROR, logger="queuectl.worker.loop"):
        _tick(heartbeat, clock)
        _tick(heartbeat, clock)
    assert heartbeat.settings is read and asked.stops == ["graceful", "graceful"]
    [line] = caplog.messages  # once, not at every check-in
    assert line == (
        f"worker {_registered(queue).id}: a stored setting is refused, settings unchanged:"
        " poll_interval: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'abc' (fix"
        " it with queuectl config set or unset)")
    queue.config_set("poll_interval", "7s")
    _tick(heartbeat, clock)
    assert heartbeat.settings.poll_interval == 7.0


def test_a_slot_count_asked_for_resizes_the_pool_and_outlives_a_lost_registration(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat, asked: Asked
) -> None:
    worker_id = _registered(queue).id
    queue.storage.request_slots(3, worker_id=worker_id)
    _tick(heartbeat, clock)
    assert (asked.resized, heartbeat.slots) == ([3], 3)
    shown = _registered(queue)
    assert (shown.slots, shown.slots_wanted) == (3, None)
    queue.storage.unregister_worker(worker_id)
    _tick(heartbeat, clock)  # its registration is gone: it registers again, as it is now
    assert _registered(queue).slots == 3
    assert asked.resized == [3]


def test_a_stop_request_is_passed_on_with_its_mode(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat, asked: Asked
) -> None:
    _tick(heartbeat, clock)
    assert asked.stops == []
    queue.storage.request_stop(_registered(queue).id, "now")
    _tick(heartbeat, clock)
    assert asked.stops == ["now"]


def test_only_the_housekeeper_polls_at_poll_interval_when_every_wake_up_arrives(
    queue: Queue, clock: FakeClock, heartbeat: Heartbeat
) -> None:
    _tick(heartbeat, clock)
    assert heartbeat.housekeeper  # the only worker
    poll = queue.settings.poll_interval
    assert heartbeat.poll_interval(wakeups_reliable=True) == poll
    heartbeat.housekeeper = False  # as a heartbeat says when an older worker is alive
    assert heartbeat.poll_interval(wakeups_reliable=True) == max(poll, heartbeat.interval)
    assert heartbeat.poll_interval(wakeups_reliable=False) == poll
