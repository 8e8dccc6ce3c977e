"""kill -9: jobs, config and progress survive; a dead worker's jobs are recovered, once."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import Cli, WorkerPool, as_json, counts, processes_using, wait_until

from queuectl import Queue

LOST = "worker lost"
VALID_STATES = {"pending", "processing", "completed", "failed", "dead"}


def jobs(cli: Cli) -> dict[str, Any]:
    return {job["id"]: job for job in as_json(cli("list", "--limit", "10000", "--json"))}


def _completed_at_least(db_path: Path, least: int) -> bool:
    return counts(db_path)["completed"] >= least


def lost_attempts(db_path: Path) -> Counter[str]:
    """How many attempts of each job ended as "worker lost"."""
    with Queue(db_path, environ={}) as queue:
        return Counter(
            job.id
            for job in queue.jobs(limit=10_000)
            for attempt in queue.attempts(job.id)
            if attempt.error == LOST
        )


@pytest.fixture
def quick_rescue(cli: Cli) -> None:
    """Heartbeats and maintenance ticks every second; a retry 50 ms after a failure."""
    cli("config", "set", "lease_duration", "3s")
    cli("config", "set", "backoff_base", "1")
    cli("config", "set", "backoff_max", "50ms")  # retries in ms, not seconds


def test_jobs_and_config_survive_kill_and_restart(
    cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path, quick_rescue: None
) -> None:
    cli("config", "set", "max-retries", "5")
    ids = [f"s{n:02}" for n in range(30)]
    cli("enqueue", "--file", "-", input="".join(
        f'{{"id":"{i}","command":"sleep 0.1; echo $QUEUECTL_JOB_ID >> ids.txt"}}\n'
        for i in ids))
    settings = as_json(cli("config", "list", "--json"))

    worker = workers.start(3)
    wait_until(lambda: counts(db_path)["completed"] >= 5, timeout=60, interval=0.05,
               message="some jobs done")
    worker.kill()
    # Which jobs it had started: their commands live on (until the next worker kills what a
    # dead one left), or have written their id already. Processes first: a command gone by
    # then had written it before it ended.
    living = {i for i in ids if processes_using(db_path, QUEUECTL_JOB_ID=i)}
    started = living | set(appended_ids(tmp_path))

    after_kill = jobs(cli)
    assert sorted(after_kill) == ids
    assert {job["state"] for job in after_kill.values()} <= VALID_STATES
    # Held: running, or claimed and not started yet: claimed for a slot that had not begun it
    # (a wider window on a loaded machine), or ahead of the slots (jobs this short are, once
    # commits are slow).
    held = {i for i, job in after_kill.items() if job["state"] == "processing"}
    assert as_json(cli("config", "list", "--json")) == settings

    workers.start(3)  # rescues the dead worker's jobs at start-up, then runs the rest
    wait_until(lambda: counts(db_path)["completed"] == 30, timeout=120, interval=0.1,
               message="every job completed after the restart")
    assert as_json(cli("config", "list", "--json")) == settings
    lost = lost_attempts(db_path)
    # Every run it had started is a lost attempt, and only jobs it held have one; a job it
    # held but had not started went back as it was, its attempt not spent.
    assert held & started <= set(lost) <= held
    finished = jobs(cli)
    assert all(finished[i]["attempts"] == 1 for i in held - set(lost)), finished
    ran = appended_ids(tmp_path)
    assert set(ran) == set(ids)
    for job_id in ids:  # a job ran twice only if a run of it was lost with its worker
        assert ran[job_id] <= 1 + lost[job_id], (job_id, ran[job_id], lost[job_id])
    [alive] = as_json(cli("status", "--json"))["workers"]  # the dead one was cleaned up
    assert alive["pid"] != worker.pid


def appended_ids(tmp_path: Path) -> Counter[str]:
    return Counter((tmp_path / "ids.txt").read_text().split())


@pytest.mark.parametrize("rescuer", ["running-peer", "new-worker"])
def test_job_of_a_killed_worker_is_recovered_by_another(
    cli: Cli, workers: WorkerPool, db_path: Path, quick_rescue: None, rescuer: str
) -> None:
    first = workers.start(1)
    first_id = workers.worker_id(first)
    command = 'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then sleep 300; fi; echo recovered'
    cli("enqueue", "--command", command, "--id", "long")
    wait_until(lambda: processes_using(db_path, QUEUECTL_JOB_ID="long"), timeout=30,
               message="the job to be running")
    assert as_json(cli("show", "long", "--json"))["worker_id"] == first_id

    if rescuer == "running-peer":
        second = workers.start(1)  # idle: the only job is held by the first worker
        first.kill()
    else:
        first.kill()
        # the killed worker's job keeps running until someone cleans up after it
        assert processes_using(db_path, QUEUECTL_JOB_ID="long")
        assert as_json(cli("show", "long", "--json"))["state"] == "processing"
        second = workers.start(1)
    second_id = workers.worker_id(second)

    wait_until(lambda: as_json(cli("show", "long", "--json"))["state"] == "completed",
               timeout=60, interval=0.1, message="the job to be recovered and completed")
    job = as_json(cli("show", "long", "--json"))
    assert job["attempts"] == 2
    first_run, second_run = job["attempts_history"]
    assert (first_run["worker_id"], first_run["error"]) == (first_id, LOST)
    assert (second_run["worker_id"], second_run["output"]) == (second_id, "recovered\n")
    # the orphaned `sleep 300` of the killed worker was killed, not left to run
    wait_until(lambda: not processes_using(db_path, QUEUECTL_JOB_ID="long"), timeout=10,
               message="the orphaned job process to be gone")
    assert "Traceback" not in workers.logs()


def test_repeated_kills_lose_nothing_and_double_only_lost_runs(
    cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path, quick_rescue: None
) -> None:
    ids = [f"c{n:02}" for n in range(80)]
    cli("enqueue", "--file", "-", input="".join(
        f'{{"id":"{i}","command":"sleep 0.05; echo $QUEUECTL_JOB_ID >> ids.txt",'
        f'"max_retries":10}}\n' for i in ids))
    pool = [workers.start(2), workers.start(2)]
    for round_number, threshold in enumerate((10, 25, 40, 55)):
        wait_until(partial(_completed_at_least, db_path, threshold), timeout=60,
                   interval=0.05, message=f"{threshold} jobs done")
        victim = pool[round_number % 2]
        victim.kill()
        assert {job["state"] for job in jobs(cli).values()} <= VALID_STATES
        pool[round_number % 2] = workers.start(2)

    wait_until(lambda: counts(db_path)["completed"] == 80, timeout=120, interval=0.1,
               message="every job completed")
    ran = appended_ids(tmp_path)
    assert set(ran) == set(ids)  # nothing lost
    lost = lost_attempts(db_path)
    for job_id in ids:  # a job ran twice only if a run of it was lost with its worker
        assert ran[job_id] <= 1 + lost[job_id], (job_id, ran[job_id], lost[job_id])
    assert counts(db_path)["processing"] == 0
    assert "database is locked" not in workers.logs()


def test_a_killed_worker_that_is_not_reaped_yet_counts_as_dead(
    cli: Cli, workers: WorkerPool, db_path: Path, quick_rescue: None
) -> None:
    """A worker killed with SIGKILL whose parent has not waited for it is a zombie: its pid
    still exists, but it will never renew a lease; the next worker must rescue its job."""
    first = workers.start(1)
    first_id = workers.worker_id(first)
    cli("enqueue", "--command", 'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then sleep 300; fi',
        "--id", "long")
    wait_until(lambda: processes_using(db_path, QUEUECTL_JOB_ID="long"), timeout=30,
               message="the job to be running")
    first.proc.kill()  # not reaped: a zombie until the fixture waits for it
    wait_until(lambda: Path(f"/proc/{first.pid}/stat").read_text().split(")")[-1].split()[0]
               == "Z", timeout=10, message="the worker to be a zombie")

    workers.start(1)  # it rescues the jobs of dead workers before it registers
    job = as_json(cli("show", "long", "--json"))
    assert (job["state"], job["worker_id"]) != ("processing", first_id)
    assert job["attempts_history"][0]["error"] == LOST


def test_worker_stop_and_status_after_a_worker_was_killed(
    cli: Cli, workers: WorkerPool, db_path: Path, quick_rescue: None
) -> None:
    worker = workers.start(1)
    cli("enqueue", "--command", "sleep 300", "--id", "held", "--max-retries", "1")
    wait_until(lambda: processes_using(db_path, QUEUECTL_JOB_ID="held"), timeout=30,
               message="the job to be running")
    worker.kill()

    [info] = as_json(cli("status", "--json"))["workers"]
    assert (info["pid"], info["state"]) == (worker.pid, "lost")
    # stop cleans up after the dead worker: its job is rescued and its orphan killed
    assert cli("worker", "stop", "--timeout", "30s").stdout.strip() == "No workers running."
    report = as_json(cli("status", "--json"))
    assert report["workers"] == [] and report["jobs"]["failed"] == 1
    assert as_json(cli("show", "held", "--json"))["last_error"] == LOST
    assert not processes_using(db_path, QUEUECTL_JOB_ID="held")


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _wal_size(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_an_enqueue_killed_midway_writes_all_its_jobs_or_none(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    cli("db", "upgrade")  # create the database
    lines = "".join(f'{{"id":"k{n}","command":"true"}}\n' for n in range(3000))
    for round_number, moment in enumerate(["database open", "writing"] * 2):
        batch = tmp_path / f"batch{round_number}.jsonl"
        batch.write_text(lines.replace('"k', f'"r{round_number}-'))
        wal_before = _wal_size(db_path)
        proc = subprocess.Popen(cli.argv("enqueue", "--file", str(batch)), env=cli.env,
                                cwd=cli.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def reached(proc: subprocess.Popen[bytes] = proc, moment: str = moment,
                    wal_before: int = wal_before) -> bool:
            if proc.poll() is not None:
                return True
            if moment == "database open":  # it parses or inserts
                return _has_open(proc.pid, db_path)
            # it writes its pages to the log: it commits, or has just committed
            return _wal_size(db_path) > wal_before + 32768

        try:
            wait_until(reached, timeout=30, interval=0.001, message=f"the enqueue: {moment}")
        finally:
            proc.kill()
            proc.wait()
        stored = [job["id"] for job in as_json(cli("list", "--limit", "100000", "--json"))
                  if job["id"].startswith(f"r{round_number}-")]
        assert len(stored) in (0, 3000), (moment, len(stored))
    assert "Traceback" not in cli("status").stderr
