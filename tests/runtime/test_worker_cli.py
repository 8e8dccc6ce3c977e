"""The foreground worker through the real CLI: what the first Ctrl-C says, when --burst ends,
a full disk met while jobs run (root only: a small tmpfs), and worker stop on a worker whose
heartbeat never moves."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests import helpers
from tests.helpers import Cli, WorkerPool, fill, processes_using, wait_until
from tests.storage.conftest import execute_raw


def show(cli: Cli, job_id: str) -> Any:
    return json.loads(cli("show", job_id, "--json").stdout)


def test_the_first_ctrl_c_says_what_the_worker_waits_for(cli: Cli, workers: WorkerPool,
                                                          tmp_path: Path, db_path: Path) -> None:
    for job_id in ("a", "b"):
        cli("enqueue", "--command", f"while [ ! -e {tmp_path / job_id} ]; do sleep 0.02; done",
            "--id", job_id)
    worker = workers.start(2)
    # Their processes, not only their claims: a claimed job no slot started yet is given back.
    wait_until(lambda: all(processes_using(db_path, QUEUECTL_JOB_ID=j) for j in "ab"),
               message="both jobs running")
    worker.signal(signal.SIGINT)
    wait_until(lambda: "stopping: waiting for 2 running jobs; Ctrl-C again kills them"
               in worker.stderr(), timeout=5, message="the stop explained at once")
    # Each job is logged as it finishes.
    (tmp_path / "a").touch()
    wait_until(lambda: "job a completed; 1 still running" in worker.stderr(), timeout=10,
               message="the first job's end logged")
    (tmp_path / "b").touch()
    assert worker.wait(30) == 0
    log = worker.stderr()
    assert "job b completed; 0 still running" in log
    assert "Traceback" not in log


def test_a_second_ctrl_c_says_it_kills_the_jobs(cli: Cli, workers: WorkerPool,
                                                 db_path: Path) -> None:
    cli("enqueue", "--command", "sleep 60", "--id", "long")
    worker = workers.start(1)
    wait_until(lambda: processes_using(db_path, QUEUECTL_JOB_ID="long"), message="job running")
    worker.signal(signal.SIGINT)
    wait_until(lambda: "Ctrl-C again kills them" in worker.stderr(), message="first Ctrl-C")
    worker.signal(signal.SIGINT)
    assert worker.wait(30) == 0
    assert "Ctrl-C again: killing 1 running job(s); they go back to the queue" \
        in worker.stderr()
    job = show(cli, "long")
    assert (job["state"], job["attempts"]) == ("pending", 0)


def test_burst_ends_when_only_jobs_it_cannot_run_are_left(cli: Cli, db_path: Path) -> None:
    """Issue 13: each of these kept `worker start --burst` alive forever."""
    cli("enqueue", "--command", "true", "--id", "mine", "--queue", "mine")
    cli("enqueue", "--command", "true", "--id", "elsewhere", "--queue", "other")
    cli("enqueue", "--command", "true", "--id", "paused", "--queue", "held")
    cli("queue", "pause", "held")
    cli("enqueue", "--command", "true", "--id", "later", "--queue", "mine", "--delay", "1h")
    cli("enqueue", "--command", "true", "--id", "after-later", "--queue", "mine",
        "--after", "later")
    started = time.monotonic()
    done = cli("worker", "start", "--burst", "--queue", "mine", "--queue", "held",
               timeout=10)
    assert time.monotonic() - started < 10
    assert "Traceback" not in done.stderr
    states = {j: show(cli, j)["state"] for j in
              ("mine", "elsewhere", "paused", "later", "after-later")}
    assert states == {"mine": "completed", "elsewhere": "pending", "paused": "pending",
                      "later": "pending", "after-later": "pending"}


def test_burst_waits_for_a_retry_of_a_job_it_ran(cli: Cli) -> None:
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds
    cli("enqueue", "--command", "test -e ran || { touch ran; exit 1; }", "--id", "flaky",
        "--max-retries", "1")
    cli("worker", "start", "--burst", timeout=30)
    job = show(cli, "flaky")
    assert (job["state"], job["attempts"]) == ("completed", 2)


# -- a full disk --------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from helpers.small_disk(tmp_path, "16m")


def test_a_worker_outlives_a_full_disk_and_records_its_results_once_there_is_room(
    cli: Cli, small_disk: Path, tmp_path: Path
) -> None:
    db_path = small_disk / "queue.db"
    cli.env["QUEUECTL_DB"] = str(db_path)
    gate, filler = tmp_path / "gate", small_disk / "filler"
    # A result of 512 KiB needs new pages in the database: it cannot be written on a full disk.
    big = f"while [ ! -e {gate} ]; do sleep 0.02; done; head -c 524288 /dev/zero"
    cli("enqueue", "--command", big, "--id", "big")
    cli("enqueue", "--command", f"while [ ! -e {gate}2 ]; do sleep 0.02; done; echo small",
        "--id", "small")
    pool = WorkerPool(cli, db_path, tmp_path)
    try:
        worker = pool.start(2)
        wait_until(lambda: all(show(cli, j)["state"] == "processing" for j in ("big", "small")),
                   message="both jobs running")
        fill(filler)
        gate.touch()
        wait_until(lambda: worker.stderr().count("database error") >= 2, timeout=20,
                   message="the worker meeting the full disk")
        assert worker.proc.poll() is None, worker.stderr()
        assert show(cli, "big")["state"] == "processing"  # its result waits in memory
        filler.unlink()
        wait_until(lambda: show(cli, "big")["state"] == "completed", timeout=20,
                   message="the result recorded once there is room")
        Path(f"{gate}2").touch()
        wait_until(lambda: show(cli, "small")["state"] == "completed", timeout=20,
                   message="the other job recorded")
        log = worker.stderr()
    finally:
        pool.close()
    assert "Traceback" not in log
    errors = [line for line in log.splitlines() if "database error" in line]
    assert all("retrying in" in line for line in errors), errors
    big_job = show(cli, "big")
    assert (big_job["runs"], big_job["attempts_history"][0]["error"]) == (1, None)
    output = cli("logs", "big").stdout
    assert len(output) == 524288


def _thread_names(pid: int) -> list[str]:
    names = []
    for tid in Path(f"/proc/{pid}/task").iterdir():
        try:
            names.append((tid / "comm").read_text().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return sorted(names)


def test_a_workers_threads_are_named_for_top(cli: Cli, workers: WorkerPool) -> None:
    """``top -H`` and ``ps -L`` tell a worker's threads apart: the coordinator, each slot,
    the lease fence and the hooks' thread give the OS their names as they start."""
    worker = workers.start(3)
    expected = ["coordinator", "hooks", "lease-fence", "slot-0", "slot-1", "slot-2"]
    wait_until(lambda: all(name in _thread_names(worker.pid) for name in expected),
               message="the worker's threads named")
    cli("parallel", "4")  # a slot added while it runs is named too
    wait_until(lambda: "slot-3" in _thread_names(worker.pid), message="the new slot named")


def test_a_second_worker_under_a_taken_id_is_refused(cli: Cli, workers: WorkerPool) -> None:
    """The first worker keeps its registration and goes on running jobs; the second says why
    it cannot start, in one line."""
    first = workers.start(1, "--worker-id", "w-shared")
    refused = cli("worker", "start", "--worker-id", "w-shared", check=1, timeout=60)
    assert refused.stderr == ("error: worker id 'w-shared' is taken: a worker of this host runs "
                              "under it (leave --worker-id out, and each worker gets an id of "
                              "its own)\n")
    [listed] = json.loads(cli("worker", "list", "--json").stdout)
    assert (listed["id"], listed["pid"]) == ("w-shared", first.pid)
    cli("enqueue", "-c", "true", "--id", "after")
    wait_until(lambda: show(cli, "after")["state"] == "completed", message="the first worker "
               "to run a job enqueued after the refusal")


def test_worker_stop_takes_a_worker_whose_heartbeat_never_moves_as_lost(
        either_cli: Cli) -> None:
    """A registration whose heartbeat stays put within a lease ahead (a hand edit, or a clock
    stepped back) reads running until it is a lease old, which it becomes only a lease after
    its time: a live worker writes one every third of a lease, so the stop takes this one as
    lost once it has waited a lease, says so in one line, and counts it stopped."""
    from queuectl import Queue
    from queuectl.storage.base import WorkerRegistration

    # Silent a lease after the stop first reads it, lost a lease after its time: the stop
    # has `ahead` (nearly a lease) to start for the first to come first.
    cli, lease, ahead = either_cli, 4.0, 3.95
    cli("config", "set", "lease_duration", f"{lease:g}s")
    with Queue(cli.env["QUEUECTL_DB"], environ={}) as queue:
        now = queue.clock.now()
        queue.storage.register_worker(
            WorkerRegistration("w-frozen", "elsewhere", 1, None, 1), now)
        execute_raw(queue.storage,
                    f"UPDATE workers SET heartbeat_at = {now + ahead!r} WHERE id = 'w-frozen'")
    started = time.monotonic()
    stopped = cli("worker", "stop", timeout=30)
    took = time.monotonic() - started
    assert stopped.stdout == "Stopped 1 worker.\n"
    assert stopped.stderr.startswith(
        "worker w-frozen wrote no heartbeat for 4s of waiting (its last: ")
    assert stopped.stderr.endswith("): taken as lost, not waited for\n")
    assert stopped.stderr.count("\n") == 1
    # It did not wait until the heartbeat read a lease old (now + ahead + lease).
    assert lease <= took < ahead + lease, took


def test_a_queue_on_a_read_only_file_system_says_why_it_cannot_be_opened(
    cli: Cli, small_disk: Path
) -> None:
    """SQLite's 'unable to open database file' named neither the folder nor the cause: in
    WAL mode even a read needs the -wal and -shm files beside the database."""
    db_path = small_disk / "queue.db"
    cli.env["QUEUECTL_DB"] = str(db_path)
    cli("add", "true")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    expected = (f"error: cannot open database {db_path}: unable to open database file: its"
                f" folder {small_disk} is not writable (a read-only file system, or no"
                " permission), and SQLite in WAL mode creates queue.db-wal and queue.db-shm"
                " there to open it, even to read\n")
    for command in (("status",), ("list",), ("add", "true"), ("worker", "start")):
        refused = cli(*command, check=1, timeout=20)
        assert (refused.stdout, refused.stderr) == ("", expected), command
