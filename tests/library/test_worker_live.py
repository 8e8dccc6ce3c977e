"""Workers running on their own: wake-ups, retry timers, burst mode and stopping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers import processes_of_run, wait_until

from queuectl import JobState, Queue
from queuectl.worker.loop import NOW, Worker


@contextmanager
def running(worker: Worker) -> Iterator[Worker]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.request_stop(NOW)
        thread.join(30)
        assert not thread.is_alive()


def test_enqueue_wakes_an_idle_worker(live_queue: Queue) -> None:
    # With a one-hour poll interval only the wake-up can start the job in time.
    live_queue.config_set("poll_interval", "1h")
    worker = live_queue.worker()
    with running(worker):
        wait_until(lambda: live_queue.workers(), message="worker registered")
        job = live_queue.enqueue("true")
        wait_until(lambda: live_queue.get(job.id).state is JobState.COMPLETED, timeout=10,
                   message="job completed")


def test_a_retry_starts_at_its_time_not_at_the_next_poll(live_queue: Queue) -> None:
    live_queue.config_set("poll_interval", "1h")
    live_queue.config_set("backoff_base", "1")  # retry one second after the failure
    marker = live_queue.url + ".ran-once"
    job = live_queue.enqueue(f"test -e {marker} || {{ touch {marker}; exit 1; }}", max_retries=2)
    with running(live_queue.worker()):
        done = wait_until(lambda: live_queue.get(job.id).state is JobState.COMPLETED,
                          timeout=15, message="job completed on its retry")
    assert done
    attempts = live_queue.attempts(job.id)
    assert [a.exit_code for a in attempts] == [1, 0]
    assert attempts[1].started_at - (attempts[0].finished_at or 0) >= 1.0


def test_burst_drains_the_queue_including_retries_then_returns(live_queue: Queue) -> None:
    live_queue.config_set("backoff_base", "1")
    live_queue.config_set("backoff_max", "50ms")  # retries in ms, not seconds
    ok = [live_queue.enqueue("true") for _ in range(5)]
    bad = live_queue.enqueue("false", max_retries=1)
    live_queue.worker(slots=3).run(burst=True)
    assert {live_queue.get(j.id).state for j in ok} == {JobState.COMPLETED}
    assert live_queue.get(bad.id).state is JobState.DEAD
    assert live_queue.workers() == []


def test_graceful_stop_lets_the_running_job_finish(live_queue: Queue, tmp_path) -> None:
    gate = tmp_path / "gate"
    job = live_queue.enqueue(f"while [ ! -e {gate} ]; do sleep 0.02; done")
    worker = live_queue.worker()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    # Its process, not only its claim: a stop gives back a claimed job no slot started yet.
    wait_until(lambda: processes_of_run(job.id, 1, worker_id=worker.id), message="job started")
    worker.request_stop()
    later = live_queue.enqueue("true")
    gate.touch()
    thread.join(30)
    assert live_queue.get(job.id).state is JobState.COMPLETED
    assert live_queue.get(later.id).state is JobState.PENDING, "claimed after the stop"


def test_forced_stop_gives_the_run_back_without_using_an_attempt(live_queue: Queue) -> None:
    job = live_queue.enqueue("sleep 60", max_retries=0)
    worker = live_queue.worker()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    # Its process, not only its claim: a claimed job no slot has started yet goes back
    # without a trace (see test_a_stop_gives_back_claimed_jobs_no_slot_started).
    wait_until(lambda: processes_of_run(job.id, 1, worker_id=worker.id), message="job started")
    worker.request_stop(NOW)
    thread.join(30)
    back = live_queue.get(job.id)
    assert (back.state, back.attempts) == (JobState.PENDING, 0)
    [attempt] = live_queue.attempts(job.id)
    assert attempt.error is not None and "not counted" in attempt.error


def test_two_workers_never_share_a_job(live_queue: Queue) -> None:
    jobs = [live_queue.enqueue("true") for _ in range(60)]
    workers = [live_queue.worker(slots=3) for _ in range(2)]
    threads = [threading.Thread(target=w.run, kwargs={"burst": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    runs = [live_queue.get(job.id) for job in jobs]
    assert {(job.state, job.runs) for job in runs} == {(JobState.COMPLETED, 1)}


def test_jobs_held_ahead_are_given_back_when_they_turn_out_long(live_queue: Queue) -> None:
    # Short jobs first: the worker learns to claim ahead of its slots.
    first = live_queue.worker(slots=2)
    for _ in range(40):
        live_queue.enqueue("true")
    thread = threading.Thread(target=first.run, daemon=True)
    thread.start()
    wait_until(lambda: live_queue.counts()[JobState.COMPLETED] == 40, message="short jobs done")
    long_jobs = [live_queue.enqueue("sleep 2") for _ in range(4)]
    # Its two slots are busy with long jobs now, so it must not sit on the other two...
    second = live_queue.worker(slots=2)
    with running(second):
        wait_until(lambda: {live_queue.get(j.id).state for j in long_jobs} == {JobState.COMPLETED},
                   timeout=30, message="long jobs done")
    first.request_stop()
    thread.join(30)
    runners = [live_queue.attempts(j.id)[-1].worker_id for j in long_jobs]
    # ...but give them back for the idle worker to run.
    assert runners.count(second.id) == 2, runners
