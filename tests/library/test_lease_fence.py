"""A worker that cannot renew its leases ends its runs before anyone may rescue them, and one
that learns a run was rescued kills it at once (fence.py; issue 12 item 1)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.helpers import processes_of_run, wait_until

from queuectl import JobState, Queue
from queuectl.backoff import outcome_of_failure
from queuectl.clock import FakeClock
from queuectl.worker.fence import margin, report_ended
from queuectl.worker.maintenance import LOST


def _gated(gate: Path, runs: Path) -> str:
    return (f"echo start $QUEUECTL_ATTEMPT >> {runs}; while [ ! -e {gate} ]; do sleep 0.01;"
            f" done; echo end $QUEUECTL_ATTEMPT >> {runs}")


def test_a_run_whose_lease_runs_out_unrenewed_is_killed_and_given_back_uncharged(
    queue: Queue, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="queuectl")
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    queue.enqueue(_gated(gate, runs), id="j")
    lease = queue.settings.lease_duration
    with queue.worker(slots=1) as worker:
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: processes_of_run("j", 1, worker_id=worker.id), message="run 1 started")
        # The coordinator does not step: no heartbeat renews the lease (as while the
        # database is out of reach). Just before the lease's end less the margin: alive.
        clock.advance(lease - margin(lease) - 0.5)
        assert processes_of_run("j", 1, worker_id=worker.id)
        clock.advance(0.6)  # past it: the fence's thread kills the run
        wait_until(lambda: not processes_of_run("j", 1, worker_id=worker.id),
                   message="run 1 killed by its worker")
        assert ("leases of 1 run ran out unrenewed (the database is out of reach): killed j run 1,"
                " so that no job runs twice at once; given back when the database answers"
                in caplog.text)
        # Nobody rescued the job: once the database answers, the run is given back without
        # charging an attempt, and claimed again.
        wait_until(lambda: worker._pool.results_waiting(), message="the killed run's end")
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: processes_of_run("j", 2, worker_id=worker.id), message="run 2 started")
        gate.touch()
        worker.run_once()
    done = queue.get("j")
    assert (done.state, done.runs, done.attempts) == (JobState.COMPLETED, 2, 1)
    assert runs.read_text().split("\n") == ["start 1", "start 2", "end 2", ""]


def test_a_run_that_ended_on_its_own_is_not_killed_when_its_lease_runs_out(
    queue: Queue, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run whose command ended but whose result is not recorded yet (the database is out
    of reach) is left alone by the fence: its result is recorded as it was, and the log
    names only the run it killed."""
    caplog.set_level(logging.INFO, logger="queuectl")
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    queue.enqueue(_gated(gate, runs), id="going")
    queue.enqueue("exit 0", id="ended")
    lease = queue.settings.lease_duration
    with queue.worker(slots=2) as worker:
        assert worker.run_once(wait=False) == 2
        wait_until(lambda: processes_of_run("going", 1, worker_id=worker.id),
                   message="going started")
        wait_until(lambda: worker._pool.results_waiting(), message="ended's end")
        clock.advance(lease)  # past both leases' ends less the margin
        wait_until(lambda: not processes_of_run("going", 1, worker_id=worker.id),
                   message="going killed")
        wait_until(lambda: "ran out unrenewed" in caplog.text, message="the fence's log")
        lines = [r.getMessage() for r in caplog.records if "ran out" in r.getMessage()]
        assert lines == ["leases of 1 run ran out unrenewed (the database is out of reach): "
                         "killed going run 1, so that no job runs twice at once; given back "
                         "when the database answers"]
        gate.touch()
        # Steps until going ran again: the first may come before its killed run has ended
        # and been given back, and then claims nothing.
        wait_until(lambda: worker.run_once() >= 0
                   and queue.get("going").state is JobState.COMPLETED,
                   message="going run again and completed")
    ended, going = queue.get("ended"), queue.get("going")
    assert (ended.state, ended.runs, ended.attempts) == (JobState.COMPLETED, 1, 1)
    assert [a.error for a in queue.attempts("ended")] == [None]
    assert (going.state, going.runs, going.attempts) == (JobState.COMPLETED, 2, 1)


def test_the_fence_log_says_what_was_done(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="queuectl")
    report_ended([], [])  # every run had ended on its own: nothing was done, nothing said
    report_ended([("q", 3), ("r", 1)], [])
    report_ended([("q", 3)], [("a", 1), ("b", 2)])
    assert [r.getMessage().split(": ", 1)[1].split(",")[0] for r in caplog.records] == [
        "took back 2 runs not started", "killed a run 1"]
    assert caplog.records[1].getMessage().startswith(
        "leases of 3 runs ran out unrenewed (the database is out of reach): killed a run 1,"
        " b run 2; took back 1 run not started, so that no job runs twice at once")


def test_a_run_rescued_by_another_worker_is_killed_at_the_next_heartbeat(
    queue: Queue, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="queuectl")
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    queue.enqueue(_gated(gate, runs), id="j", max_retries=3)
    queue.config_set("backoff_base", "100")  # the job waits: no run 2 in this test
    with queue.worker(slots=1) as worker:
        worker._interrupts.fence.close()  # only the heartbeat's answer may end the run here
        assert worker.run_once(wait=False) == 1
        wait_until(lambda: processes_of_run("j", 1, worker_id=worker.id), message="run 1 started")
        settings = queue.settings
        clock.advance(settings.lease_duration + 1)
        # Another host rescues it (its rescue cannot reach this host's processes).
        queue.storage.rescue(
            clock.now(), lambda held: outcome_of_failure(held, clock.now(), settings, LOST))
        assert worker.run_once(wait=False) == 0  # the heartbeat says: no longer ours
        wait_until(lambda: not processes_of_run("j", 1, worker_id=worker.id),
                   message="run 1 killed")
        worker.run_once()
    lines = [r.getMessage() for r in caplog.records if "its lease was lost" in r.getMessage()]
    assert lines == ["job j run 1: its lease was lost (another worker rescued the job); "
                     "killed its process group"]
    assert queue.get("j").state is JobState.FAILED
    assert [a.error for a in queue.attempts("j")] == [LOST]
