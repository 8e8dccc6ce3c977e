"""Issue 12, idle cost: one worker of a store does its housekeeping, named by the heartbeat;
the heartbeat says when the stored settings changed; the housekeeper counts the jobs that came
due (a delay or a backoff ran out) to wake idle workers for them."""

from __future__ import annotations

import os

from queuectl.config import Settings
from queuectl.hosts import HOST
from queuectl.models import JobState, NewJob
from queuectl.storage import Storage
from queuectl.storage.base import WorkerRegistration
from queuectl.worker.control import worker_states
from queuectl.worker.maintenance import WAITERS_PAUSE, Housekeeping, rescue_lost_runs

from .conftest import execute_raw, stored

T0 = 1_767_225_600.0
LEASE = 30.0


def _register(storage: Storage, worker_id: str, now: float) -> None:
    storage.register_worker(WorkerRegistration(worker_id, HOST, os.getpid(), None, 1), now)


def _housekeepers(storage: Storage, worker_ids: list[str], now: float) -> list[str]:
    return [w for w in worker_ids if storage.heartbeat(w, now, now + LEASE).housekeeper]


def test_the_longest_registered_live_worker_is_the_one_housekeeper(storage: Storage) -> None:
    for n, worker_id in enumerate(["first", "second", "third"]):
        _register(storage, worker_id, T0 + n)
    assert _housekeepers(storage, ["third", "second", "first"], T0 + 5) == ["first"]
    # "first" falls silent: once its heartbeat is older than a lease, "second" takes over.
    assert _housekeepers(storage, ["third", "second"], T0 + 5 + LEASE - 1) == []
    assert _housekeepers(storage, ["third", "second"], T0 + 5 + LEASE + 1) == ["second"]
    # A worker that stopped is gone at once.
    storage.unregister_worker("second")
    assert _housekeepers(storage, ["third"], T0 + 5 + LEASE + 2) == ["third"]


def test_the_heartbeat_says_when_the_stored_settings_changed(storage: Storage) -> None:
    _register(storage, "w", T0)
    before = storage.heartbeat("w", T0, T0 + LEASE).config_version
    assert storage.heartbeat("w", T0 + 1, T0 + 1 + LEASE).config_version == before
    storage.set_config("poll_interval", "5")
    changed = storage.heartbeat("w", T0 + 2, T0 + 2 + LEASE).config_version
    assert changed != before
    storage.set_config("poll_interval", "6")
    assert storage.heartbeat("w", T0 + 3, T0 + 3 + LEASE).config_version not in (before, changed)
    storage.set_config("poll_interval", None)
    assert storage.heartbeat("w", T0 + 4, T0 + 4 + LEASE).config_version == before


def test_an_idle_heartbeat_asks_nothing_about_runs(storage: Storage) -> None:
    _register(storage, "w", T0)
    storage.enqueue([NewJob("j", "true", 3)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + LEASE)
    idle = storage.heartbeat("w", T0 + 10, T0 + 10 + LEASE, holding=False)
    assert (idle.registered, idle.held) == (True, [])
    assert stored(storage, "j").lease_until == T0 + LEASE


def test_jobs_come_due_counts_those_whose_time_came_and_tells_the_next(storage: Storage) -> None:
    storage.enqueue([NewJob("now", "true", 0), NewJob("soon", "true", 0, run_at=T0 + 5),
                     NewJob("later", "true", 0, run_at=T0 + 60)], T0)
    assert storage.jobs_come_due(T0 - 1, T0) == (1, T0 + 5)
    assert storage.jobs_come_due(T0, T0 + 4) == (0, T0 + 5)
    assert storage.jobs_come_due(T0 + 4, T0 + 6) == (1, T0 + 60)
    storage.set_queue_paused("default", True)  # a paused queue's jobs do not come due
    assert storage.jobs_come_due(T0 + 59, T0 + 61) == (0, None)


def test_the_list_of_workers_names_the_housekeeper_the_heartbeat_elects(
        storage: Storage) -> None:
    def listed(now: float) -> list[str]:
        return [w.id for w in storage.workers(alive_since=now - LEASE, alive_until=now + LEASE)
                if w.housekeeper]

    for n, worker_id in enumerate(["first", "second", "third"]):
        _register(storage, worker_id, T0 + n)
    assert listed(T0 + 5) == ["first"] == _housekeepers(storage, ["first", "second"], T0 + 5)
    # "first" falls silent: it is still the housekeeper until its heartbeat is a lease old.
    assert listed(T0 + 5 + LEASE - 1) == ["first"]
    assert _housekeepers(storage, ["third", "second"], T0 + 5 + LEASE - 1) == []
    later = T0 + 5 + LEASE + 1
    assert listed(later) == ["second"] == _housekeepers(storage, ["third", "second"], later)
    storage.unregister_worker("second")
    assert listed(later) == ["third"] == _housekeepers(storage, ["third"], later)
    # Without a bound for "live" nothing is judged.
    assert [w.housekeeper for w in storage.workers()] == [False, False]


def test_the_housekeeper_buries_jobs_waiting_in_vain_a_pause_apart(storage: Storage) -> None:
    """A running worker looks again for jobs waiting on dependencies they do not have (a
    hand edit while it runs) every WAITERS_PAUSE, not at each step: the look reads every
    waiting job. Its first look is the worker's start's."""
    storage.enqueue([NewJob("waiting", "true", 0)], T0)
    execute_raw(storage, "UPDATE jobs SET waiting_on = 1 WHERE id = 'waiting'")
    housekeeping = Housekeeping(storage)
    due = housekeeping.run_due(Settings(), T0)
    assert stored(storage, "waiting").state == JobState.PENDING
    housekeeping.run_due(Settings(), T0 + WAITERS_PAUSE - 1)
    assert stored(storage, "waiting").state == JobState.PENDING
    assert due <= T0 + WAITERS_PAUSE
    housekeeping.run_due(Settings(), T0 + WAITERS_PAUSE)
    assert stored(storage, "waiting").state == JobState.DEAD


def test_a_heartbeat_that_is_no_time_reads_as_lost_and_is_forgotten(storage: Storage) -> None:
    """A registration whose heartbeat is infinite (a hand edit) read as live for ever: first
    in line, it was the housekeeper, so no live worker was, and since it never aged past the
    cutoff no housekeeping forgot it. It is lost now, elects no one, and is forgotten; a
    live worker whose heartbeat is a little ahead (a clock stepped back) stays."""
    lease = Settings().lease_duration
    for n, worker_id in enumerate(["edited", "live", "ahead"]):
        _register(storage, worker_id, T0 + n)
    storage.heartbeat("edited", float("inf"), float("inf"))  # as a hand edit leaves it
    now = T0 + 10
    assert _housekeepers(storage, ["ahead", "live"], now) == ["live"]
    storage.heartbeat("ahead", now + 2 * lease, now + 3 * lease)
    states = {w.id: (w.state, w.housekeeper) for w in worker_states(storage, lease, now)}
    assert states == {"edited": ("lost", False), "live": ("running", True),
                      "ahead": ("lost", False)}
    rescue_lost_runs(storage, Settings(), now)
    assert [w.id for w in storage.workers()] == ["live", "ahead"]
