"""The worker's loop stepped by hand on a fake clock: ``run_once()`` is one step of the real
loop, with claim-ahead and batched results, and the slot register is keyed by (job, run)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.helpers import processes_of_run, wait_until

from queuectl import JobState, Queue
from queuectl.backoff import outcome_of_failure
from queuectl.clock import FakeClock
from queuectl.worker.loop import GRACEFUL
from queuectl.worker.maintenance import LOST


def test_run_once_is_a_step_of_the_real_loop_with_claim_ahead(queue: Queue) -> None:
    jobs = queue.enqueue_many([{"command": "true"}] * 60)
    claims = []
    with queue.worker(slots=2) as worker:
        claims.append(worker.run_once())  # nothing is claimed ahead before jobs were measured
        # As if the jobs had been measured short (how long `true` takes depends on the load).
        worker._pool.typical_run = 0.0
        while claimed := worker.run_once():
            claims.append(claimed)
    # Then 24 per slot (48 in all at 2 slots). (Later claims depend on how long `true` takes
    # under the machine's load: jobs that turn out long are given back and claimed again.)
    assert claims[:2] == [2, 48], claims
    assert {(queue.get(job.id).state, queue.get(job.id).runs) for job in jobs} == {
        (JobState.COMPLETED, 1)}


def test_run_once_without_waiting_leaves_its_jobs_running(queue: Queue, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    job = queue.enqueue(f"while [ ! -e {gate} ]; do sleep 0.01; done")
    with queue.worker() as worker:
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: processes_of_run(job.id, 1, worker_id=worker.id),
                   message="the job started")
        assert worker.run_once(wait=False) == 0  # its only slot is busy
        assert queue.get(job.id).state is JobState.PROCESSING
        gate.touch()
        worker.run_once()
    assert queue.get(job.id).state is JobState.COMPLETED


def test_a_job_claimed_again_while_its_old_run_goes_on_runs_once_at_a_time(
    queue: Queue, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12: the lease of a run still going ran out (the database was cut off), the run
    was rescued, and the same worker claimed the job again: it used to crash with KeyError
    in SlotPool.finished, with both runs going at once."""
    caplog.set_level(logging.INFO, logger="queuectl")
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    queue.config_set("backoff_base", "1")
    queue.enqueue(f"echo start $QUEUECTL_ATTEMPT >> {runs};"
                  f" while [ ! -e {gate} ]; do sleep 0.01; done;"
                  f" echo end $QUEUECTL_ATTEMPT >> {runs}", id="j", max_retries=3)
    with queue.worker(slots=2) as worker:
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: runs.exists(), message="run 1 started")
        # Another worker finds the lease expired and rescues the run (without reaching this
        # host's processes, as from another host).
        clock.advance(queue.settings.lease_duration + 1)
        settings = queue.settings
        [rescued] = queue.storage.rescue(
            clock.now(), lambda held: outcome_of_failure(held, clock.now(), settings, LOST))
        assert rescued.state is JobState.FAILED
        clock.advance(1)
        assert worker.run_once(wait=False) == 1  # run 2, while run 1 still goes on
        wait_until(lambda: "start 2" in runs.read_text(), message="run 2 started")
        assert processes_of_run("j", 1, worker_id=worker.id) == [], \
            "run 2 started before run 1 was gone"
        gate.touch()
        worker.run_once()
    assert runs.read_text().split("\n") == ["start 1", "start 2", "end 2", ""]
    done = queue.get("j")
    assert (done.state, done.runs) == (JobState.COMPLETED, 2)
    assert [attempt.error for attempt in queue.attempts("j")] == [LOST, None]
    assert "job j run 1: its lease was lost" in caplog.text
    assert "discarded the result of job j run 1" in caplog.text


def test_a_stop_gives_back_claimed_jobs_no_slot_started(queue: Queue, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    with queue.worker(slots=1) as worker:
        worker._pool.typical_run = 0.0  # as if short jobs had been measured: claim ahead
        first = queue.enqueue(f"while [ ! -e {gate} ]; do sleep 0.01; done", id="first")
        later = [queue.enqueue("true", id=f"later{n}") for n in range(3)]
        assert worker.run_once(wait=False) == 4  # one runs, three wait for the slot
        wait_until(lambda: processes_of_run(first.id, 1, worker_id=worker.id),
                   message="the first job started")
        worker.request_stop(GRACEFUL)
        assert worker.run_once(wait=False) == 0
        for job in later:  # back exactly as before the claim: no attempt, no trace
            back = queue.get(job.id)
            assert (back.state, back.attempts, back.runs) == (JobState.PENDING, 0, 0)
            assert queue.attempts(job.id) == []
        gate.touch()
        worker.run_once()
    assert queue.get(first.id).state is JobState.COMPLETED
