"""Faults a worker contains: a job that cannot start, a slot whose job breaks inside the
worker, and a database that refuses writes (a lock held past the busy timeout) while jobs run.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import processes_of_run, wait_until

from queuectl import JobState, Queue
from queuectl.errors import QueuectlError
from queuectl.models import Job
from queuectl.process.runner import Execution, RunResult
from queuectl.worker.loop import NOW, Worker
from queuectl.worker.slots import Finished, SlotPool


class Serving:
    """A worker's ``run()`` on a thread of its own; ``error`` is what it raised, if anything."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:
            self.error = exc

    def stop(self, mode: str = NOW, timeout: float = 30) -> None:
        self.worker.request_stop(mode)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the worker did not stop"


@pytest.fixture
def locked_db(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the test's database, to take its write lock with."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def running(serving: Serving, job: Job) -> list[int]:
    """The processes of the job's first run by the serving worker (not another test's)."""
    return processes_of_run(job.id, 1, worker_id=serving.worker.id)


def gated(gate: Path, then: str = "true") -> str:
    return f"while [ ! -e {gate} ]; do sleep 0.01; done; {then}"


# -- jobs that cannot start, or break inside the worker ------------------------------------

@pytest.mark.parametrize(("column", "value", "error"), [
    ("cwd", "/tmp/a\0b", "null byte"),
    ("env", '{"BAD": "a\\u0000b"}', "null byte"),
    ("env", '{"BAD": "\\ud800"}', "surrogates"),
    ("env", '{"A=B": "1"}', "illegal environment variable name"),
])
def test_a_job_that_cannot_start_fails_its_attempt_and_the_slot_goes_on(
    queue: Queue, db_path: Path, column: str, value: str, error: str
) -> None:
    """Values the checks at enqueue refuse, written straight into an old database."""
    poison = queue.enqueue("echo never", id="poison", max_retries=0)
    queue.enqueue("echo after", id="after")
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"UPDATE jobs SET {column} = ? WHERE id = 'poison'", (value,))
    with queue.worker(slots=1) as worker:
        while worker.run_once():
            pass
    failed = queue.get(poison.id)
    assert failed.state is JobState.DEAD
    assert failed.last_error is not None and error in failed.last_error
    assert failed.last_error.startswith("cannot start")
    after = queue.get("after")
    assert after.state is JobState.COMPLETED  # the same, only slot ran it
    assert queue.attempts("after")[0].output == b"after\n"


def test_env_names_stored_before_names_were_checked_still_run(queue: Queue,
                                                             db_path: Path) -> None:
    """An old database may hold names enqueue now refuses: the job runs, with the portable
    names it has (sh drops the others: the direct exec does the same)."""
    queue.enqueue('printf "%s" "$KEPT"', id="old-names", max_retries=0)
    queue.enqueue("printf '%s' \"$KEPT\"; exit 0", id="old-names-shell", max_retries=0)
    odd = '{"KEPT": "yes", "BAD NAME": "1", "a.b": "2", "1A": "3", "\u00c9": "4"}'
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE jobs SET env = ? WHERE id LIKE 'old-names%'", (odd,))
    with queue.worker(slots=1) as worker:
        while worker.run_once():
            pass
    for job_id in ("old-names", "old-names-shell"):
        assert queue.get(job_id).state is JobState.COMPLETED
        assert queue.attempts(job_id)[0].output == b"yes"


def test_a_timeout_too_long_for_the_os_does_not_jam_the_slot(queue: Queue,
                                                             db_path: Path) -> None:
    queue.enqueue("echo long", id="long")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE jobs SET timeout = 1e300 WHERE id = 'long'")
    queue.enqueue("echo after", id="after")
    with queue.worker(slots=1) as worker:
        while worker.run_once():
            pass
    # Either the runner honours it as "no timeout" (the command ran) or the run fails with a
    # clear error: never a slot that hangs with the job processing forever.
    assert queue.get("long").state in (JobState.COMPLETED, JobState.FAILED)
    assert queue.get("after").state is JobState.COMPLETED


class _BreaksWhileRunning(Execution):
    def wait(self) -> RunResult:
        super().wait()
        raise RuntimeError("the watcher broke")


def _job(job_id: str, command: str = "true") -> Job:
    return Job(job_id, command, JobState.PROCESSING, attempts=1, max_retries=0, created_at=0,
               updated_at=0, run_at=0, runs=1)


def test_a_slot_survives_whatever_breaks_while_it_starts_or_watches_a_job() -> None:
    woken = threading.Event()

    def start(job: Job) -> Execution:
        if job.id == "cannot-start":
            raise OverflowError("timeout is too large")
        if job.id == "breaks":
            return _BreaksWhileRunning("true")
        return Execution(job.command)

    pool = SlotPool(1, start, time.time, woken.set)
    pool.start()
    try:
        pool.submit([_job("cannot-start"), _job("breaks"), _job("fine", "echo fine")])
        results: list[Finished] = []

        def three_ended() -> bool:
            results.extend(pool.finished())
            return len(results) == 3

        wait_until(three_ended, message="three runs ended")
    finally:
        pool.close()
    by_id = {item.job.id: item.result for item in results}
    assert by_id["cannot-start"].error == "cannot start: OverflowError: timeout is too large"
    assert by_id["breaks"].error == "failed in the worker: RuntimeError: the watcher broke"
    assert (by_id["fine"].error, by_id["fine"].output) == (None, b"fine\n")
    assert len(pool) == 0


# -- a database that refuses writes --------------------------------------------------------

def test_a_lock_held_past_the_busy_timeout_is_waited_out_while_jobs_run(
    live_queue: Queue, tmp_path: Path, locked_db: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="queuectl")
    monkeypatch.setenv("QUEUECTL_BUSY_TIMEOUT", "200ms")
    live_queue.config_set("lease_duration", "3s")  # a heartbeat every second
    first_gate, second_gate = tmp_path / "first", tmp_path / "second"
    first = live_queue.enqueue(gated(first_gate, "echo first"), id="first")
    second = live_queue.enqueue(gated(second_gate, "echo second"), id="second")
    serving = Serving(live_queue.worker(slots=2))
    try:
        wait_until(lambda: running(serving, first) and running(serving, second),
                   message="both jobs running")
        locked_db.execute("BEGIN IMMEDIATE")
        first_gate.touch()
        wait_until(lambda: caplog.text.count("database error") >= 3, timeout=15,
                   message="the worker meeting the lock a few times")
        # The worker lives on, the other job keeps running, and the first one's result waits
        # in memory: the database (readable under a write lock) still says processing.
        assert serving.thread.is_alive()
        assert running(serving, second)
        assert live_queue.get(first.id).state is JobState.PROCESSING
        assert "job first completed" not in caplog.text
        released = time.time()
        locked_db.execute("ROLLBACK")
        wait_until(lambda: live_queue.get(first.id).state is JobState.COMPLETED, timeout=15,
                   message="the waiting result recorded")
        second_gate.touch()
        wait_until(lambda: live_queue.get(second.id).state is JobState.COMPLETED, timeout=15,
                   message="the other job recorded")
        wait_until(lambda: live_queue.workers()[0].heartbeat_at > released + 0.5, timeout=15,
                   message="heartbeats resumed")
    finally:
        serving.stop()
    assert serving.error is None
    errors = [r for r in caplog.records if r.getMessage().startswith("database error")]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in errors)
    first_error = errors[0].getMessage()
    assert "database is locked" in first_error
    assert first_error.endswith("; retrying in 250ms (1 job running, 1 result waiting)")
    [done] = [r for r in caplog.records if r.getMessage().startswith("job first completed")]
    assert done.created >= released, "a result was reported before it was committed"
    assert any(r.getMessage().startswith("database available again") for r in caplog.records)
    for job in (first, second):
        [attempt] = live_queue.attempts(job.id)
        assert (attempt.error, attempt.output) == (None, f"{job.id}\n".encode())


def test_a_forced_stop_works_while_the_database_is_locked(
    live_queue: Queue, tmp_path: Path, locked_db: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUEUECTL_BUSY_TIMEOUT", "1s")
    job = live_queue.enqueue("sleep 60", id="long")
    serving = Serving(live_queue.worker())
    wait_until(lambda: running(serving, job), message="the job running")
    locked_db.execute("BEGIN IMMEDIATE")
    asked = time.monotonic()
    serving.worker.request_stop(NOW)  # from another thread, as a signal handler would
    wait_until(lambda: not running(serving, job), timeout=2,
               message="the job killed at once")
    serving.thread.join(10)
    assert not serving.thread.is_alive()
    assert time.monotonic() - asked < 5
    assert isinstance(serving.error, QueuectlError)
    assert "stopped without writing 1 run to give back" in str(serving.error)
    locked_db.execute("ROLLBACK")
    # Left held in the database: rescued (as lost) once its lease runs out, like a crash.
    assert live_queue.get(job.id).state is JobState.PROCESSING


def test_a_worker_started_while_the_database_is_locked_waits_for_it(
    live_queue: Queue, locked_db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="queuectl")
    monkeypatch.setenv("QUEUECTL_BUSY_TIMEOUT", "200ms")
    locked_db.execute("BEGIN IMMEDIATE")
    serving = Serving(live_queue.worker())
    try:
        wait_until(lambda: caplog.text.count("(not started yet)") >= 2, timeout=15,
                   message="the worker meeting the lock at its start")
        assert serving.thread.is_alive()
        locked_db.execute("ROLLBACK")
        wait_until(lambda: live_queue.workers(), timeout=15, message="the worker registered")
        job = live_queue.enqueue("true")
        wait_until(lambda: live_queue.get(job.id).state is JobState.COMPLETED, timeout=15,
                   message="a job run")
    finally:
        serving.stop()
    assert serving.error is None


def test_a_worker_that_cannot_start_yet_still_stops_when_asked(
    live_queue: Queue, locked_db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="queuectl")
    monkeypatch.setenv("QUEUECTL_BUSY_TIMEOUT", "200ms")
    locked_db.execute("BEGIN IMMEDIATE")
    serving = Serving(live_queue.worker())
    wait_until(lambda: "(not started yet)" in caplog.text, timeout=15,
               message="the worker meeting the lock at its start")
    serving.stop(timeout=5)
    assert serving.error is None
    assert "stopped before it could start" in caplog.text


def test_a_start_that_fails_on_this_host_is_one_line_and_leaves_no_registration(
    live_queue: Queue, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a database error was caught at a start: anything else (no file descriptor left,
    no thread) reached ``worker start`` as a traceback, and left the worker registered."""
    def no_files(*args: object, **kwargs: object) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr("queuectl.worker.loop.Launcher", no_files)
    with pytest.raises(QueuectlError, match=r"^worker w-\w+ could not start: "
                       r"OSError: \[Errno 24\] Too many open files$"):
        live_queue.serve_worker(burst=True)
    assert live_queue.workers() == []
