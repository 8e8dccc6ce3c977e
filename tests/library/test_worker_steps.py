"""The worker's loop stepped by hand on a fake clock: ``run_once()`` is one step of the real
loop, with claim-ahead and batched results, and the slot register is keyed by (job, run)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.conftest import wait_until

from queuectl import JobState, Queue
from queuectl.backoff import outcome_of_failure
from queuectl.clock import FakeClock
from queuectl.maintenance import LOST


def processes_of_run(job_id: str, run: int) -> list[int]:
    """Live processes of one run of a job (they carry it in their environment)."""
    wanted = {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode()}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if wanted <= environ and state != "Z":
                found.append(int(entry.name))
    return found


def test_run_once_claims_ahead_once_jobs_prove_short(queue: Queue) -> None:
    jobs = queue.enqueue_many([{"command": "true"}] * 120)
    claims = []
    with queue.worker(slots=2) as worker:
        while claimed := worker.run_once():
            claims.append(claimed)
    assert claims[0] == 2, "nothing is claimed ahead before jobs were measured"
    assert max(claims) > 2, f"never claimed ahead: {claims}"
    assert sum(claims) == 120
    assert {(queue.get(job.id).state, queue.get(job.id).runs) for job in jobs} == {
        (JobState.COMPLETED, 1)}


def test_run_once_without_waiting_leaves_its_jobs_running(queue: Queue, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    job = queue.enqueue(f"while [ ! -e {gate} ]; do sleep 0.01; done")
    with queue.worker() as worker:
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: processes_of_run(job.id, 1), message="the job started")
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
        assert processes_of_run("j", 1) == [], "run 2 started before run 1 was gone"
        gate.touch()
        worker.run_once()
    assert runs.read_text().split("\n") == ["start 1", "start 2", "end 2", ""]
    done = queue.get("j")
    assert (done.state, done.runs) == (JobState.COMPLETED, 2)
    assert [attempt.error for attempt in queue.attempts("j")] == [LOST, None]
    assert "job j run 1: its lease was lost" in caplog.text
    assert "discarded the result of job j run 1" in caplog.text
