"""Leases, rescue of lost runs, and the fence that refuses a stale worker's result."""

from __future__ import annotations

from queuectl import JobState, Queue
from queuectl.clock import FakeClock
from queuectl.models import Outcome
from queuectl.worker.maintenance import LOST, rescue_lost_runs


def test_a_stale_worker_cannot_overwrite_a_rescued_and_rerun_job(
    queue: Queue, clock: FakeClock
) -> None:
    storage = queue.storage
    queue.enqueue("true", id="j")
    lease = queue.settings.lease_duration
    [held], _ = storage.record_and_claim("frozen", [], 1, clock.now(), clock.now() + lease)

    clock.advance(lease + 1)  # the frozen worker never renewed its lease
    [rescued] = rescue_lost_runs(storage, queue.settings, clock.now())
    assert (rescued.state, rescued.error) == (JobState.FAILED, LOST)

    clock.advance(queue.get("j").run_at - clock.now())
    [rerun], _ = storage.record_and_claim("healthy", [], 1, clock.now(), clock.now() + lease)
    assert rerun.runs == 2

    late = Outcome("j", held.runs, JobState.COMPLETED, clock.now(), exit_code=0)
    _, stale = storage.record_and_claim("frozen", [late], 0, clock.now(), clock.now())
    assert stale == [late]
    current = queue.get("j")
    assert (current.state, current.worker_id, current.runs) == (JobState.PROCESSING, "healthy", 2)
    assert [a.error for a in queue.attempts("j")] == [LOST, None]


def test_a_live_lease_is_not_rescued(queue: Queue, clock: FakeClock) -> None:
    queue.enqueue("true", id="j")
    lease = queue.settings.lease_duration
    queue.storage.record_and_claim("alive", [], 1, clock.now(), clock.now() + lease)
    clock.advance(lease - 1)
    assert rescue_lost_runs(queue.storage, queue.settings, clock.now()) == []
    assert queue.get("j").state is JobState.PROCESSING


def test_heartbeat_renews_only_the_workers_own_leases(queue: Queue, clock: FakeClock) -> None:
    storage = queue.storage
    queue.enqueue("true", id="a")
    queue.enqueue("true", id="b")
    storage.record_and_claim("w1", [], 1, clock.now(), clock.now() + 10)
    storage.record_and_claim("w2", [], 1, clock.now(), clock.now() + 10)
    storage.heartbeat("w1", clock.now(), clock.now() + 100)
    leases = {job.worker_id: job.lease_until for job in queue.jobs("processing")}
    assert leases == {"w1": clock.now() + 100, "w2": clock.now() + 10}


def test_lost_run_uses_up_an_attempt_and_can_end_dead(queue: Queue, clock: FakeClock) -> None:
    queue.enqueue("true", id="j", max_retries=0)
    queue.storage.record_and_claim("gone", [], 1, clock.now(), clock.now() + 1)
    clock.advance(2)
    rescue_lost_runs(queue.storage, queue.settings, clock.now())
    dead = queue.get("j")
    assert (dead.state, dead.last_error) == (JobState.DEAD, LOST)
