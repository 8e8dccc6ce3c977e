"""The retry policy end to end through the library, stepped with a fake clock."""

from __future__ import annotations

from queuectl import JobState, Queue
from queuectl.clock import FakeClock


def test_a_job_completes_and_keeps_its_output(queue: Queue) -> None:
    job = queue.enqueue("echo hello; echo oops >&2")
    with queue.worker() as worker:
        assert worker.run_once() == 1
    done = queue.get(job.id)
    assert (done.state, done.attempts, done.exit_code) == (JobState.COMPLETED, 1, 0)
    [attempt] = queue.attempts(job.id)
    assert attempt.output == b"hello\noops\n"
    assert attempt.error is None


def test_failures_wait_base_to_the_k_then_land_in_the_dlq(queue: Queue, clock: FakeClock) -> None:
    queue.config_set("backoff_base", "3")
    job = queue.enqueue("exit 7", id="flaky", max_retries=3)
    start = clock.now()
    retry_times = []
    with queue.worker() as worker:
        for k in (1, 2, 3):
            assert worker.run_once() == 1
            failed = queue.get(job.id)
            assert (failed.state, failed.attempts) == (JobState.FAILED, k)
            retry_times.append(failed.run_at - clock.now())
            clock.advance(failed.run_at - clock.now() - 0.001)
            assert worker.run_once() == 0, "claimed before its retry time"
            clock.advance(0.001)
        assert worker.run_once() == 1
    assert retry_times == [3.0, 9.0, 27.0]
    dead = queue.get(job.id)
    assert (dead.state, dead.attempts, dead.exit_code) == (JobState.DEAD, 4, 7)
    assert dead.last_error == "exit code 7"
    assert [a.number for a in queue.attempts(job.id)] == [1, 2, 3, 4]
    assert clock.now() - start == 3 + 9 + 27


def test_max_retries_zero_means_one_run(queue: Queue) -> None:
    job = queue.enqueue("false", max_retries=0)
    with queue.worker() as worker:
        worker.run_once()
    assert queue.get(job.id).state is JobState.DEAD


def test_backoff_is_capped(queue: Queue, clock: FakeClock) -> None:
    queue.config_set("backoff_max", "5s")
    job = queue.enqueue("false", max_retries=5)
    delays = []
    with queue.worker() as worker:
        for _ in range(4):
            worker.run_once()
            delays.append(queue.get(job.id).run_at - clock.now())
            clock.advance(delays[-1])
    assert delays == [2.0, 4.0, 5.0, 5.0]


def test_dlq_retry_resets_attempts_and_keeps_history(queue: Queue) -> None:
    job = queue.enqueue("false", max_retries=0)
    with queue.worker() as worker:
        worker.run_once()
        [retried] = queue.retry([job.id])
        assert (retried.state, retried.attempts) == (JobState.PENDING, 0)
        worker.run_once()
    again = queue.get(job.id)
    assert (again.state, again.attempts, again.runs) == (JobState.DEAD, 1, 2)
    assert [a.number for a in queue.attempts(job.id)] == [1, 2]


def test_command_not_found_is_a_failed_attempt(queue: Queue) -> None:
    job = queue.enqueue("no_such_command_queuectl_test", max_retries=1)
    with queue.worker() as worker:
        worker.run_once()
    failed = queue.get(job.id)
    assert failed.state is JobState.FAILED
    assert failed.last_error == "exit code 127: command not found"
