"""Scheduling rules across real processes: a queue's concurrency limit with 3 workers x 4
slots, unique keys under 8 racing enqueuers, an every-second schedule with 3 workers, and
pause and resume with a live worker."""

from __future__ import annotations

import calendar
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.helpers import Cli, WorkerPool, as_json, counts, wait_until

from queuectl import Queue

# A job that counts how many jobs run at once: +1 under a lock, hold, -1 under the lock.
# Each value it reaches is appended to `seen`, so the largest one is the peak concurrency.
COUNTER = """
import fcntl, sys, time
from pathlib import Path

def change(delta):
    with open("count.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = Path("count")
        now = int(path.read_text() or 0) if path.exists() else 0
        now += delta
        path.write_text(str(now))
        if delta > 0:
            with open("seen", "a") as seen:
                seen.write(f"{now}\\n")

change(+1)
time.sleep(float(sys.argv[1]))
change(-1)
"""


def test_a_queue_limit_holds_across_three_workers_of_four_slots(
        cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path) -> None:
    (tmp_path / "counter.py").write_text(COUNTER)
    cli("queue", "limit", "render", "2")
    limited = [f'{{"id":"r{n}","command":"{sys.executable} counter.py 0.3","queue":"render"}}'
               for n in range(12)]
    free = [f'{{"id":"f{n}","command":"sleep 0.2"}}' for n in range(12)]
    cli("enqueue", "--file", "-", input="\n".join(limited + free) + "\n")
    for _ in range(3):
        workers.start(4, wait=False)  # twelve slots race for the jobs
    wait_until(lambda: counts(db_path)["completed"] == 24, timeout=90, interval=0.1,
               message="24 completed jobs")
    seen = [int(line) for line in (tmp_path / "seen").read_text().split()]
    assert len(seen) == 12
    assert max(seen) == 2  # never more than the limit, and the limit was reached
    assert (tmp_path / "count").read_text() == "0"
    assert "Traceback" not in workers.logs()


# Each enqueuer runs the CLI's entry point in a loop (one connection and transaction per
# call, without paying for an interpreter per job), racing the others for every key.
ENQUEUER = """
import sys
from queuectl.cli import main

tag, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    try:
        main(["enqueue", "--command", f"echo {tag}", "--unique-key", f"key-{n}", "--id",
              f"{tag}-{n}"])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
"""


def test_unique_keys_under_eight_concurrent_enqueuers_create_one_job_each(
        cli: Cli, db_path: Path) -> None:
    keys = 40
    procs = [
        subprocess.Popen([sys.executable, "-c", ENQUEUER, f"e{n}", str(keys)], env=cli.env,
                         cwd=cli.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(8)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    # The stderr of those that failed, whole: the stdout of the others would hide it.
    assert [proc.returncode for proc in procs] == [0] * 8, [
        err for proc, (_, err) in zip(procs, outputs, strict=True) if proc.returncode]
    with Queue(db_path, environ={}) as queue:
        jobs = queue.jobs(limit=1000)
    assert Counter(job.unique_key for job in jobs) == Counter(f"key-{n}" for n in range(keys))
    created = sum(out.count("Enqueued job") for out, _ in outputs)
    refused = sum(out.count("nothing enqueued") for out, _ in outputs)
    assert (created, refused) == (keys, 7 * keys)  # each key: one job, seven reports of it
    again = as_json(cli("enqueue", "-c", "true", "--unique-key", "key-0", "--json"))
    assert again["created"] is False
    assert again["id"] in {job.id for job in jobs if job.unique_key == "key-0"}


def test_an_every_second_schedule_with_three_workers_enqueues_one_job_per_tick(
        cli: Cli, workers: WorkerPool, db_path: Path) -> None:
    cli("schedule", "add", "ping", "--every", "1s", "-c", "true")
    for _ in range(3):
        workers.start(2, wait=False)

    def ping_jobs() -> list[str]:
        with Queue(db_path, environ={}) as queue:
            return sorted(job.id for job in queue.jobs(limit=1000))

    wait_until(lambda: len(ping_jobs()) >= 5, timeout=60, interval=0.1, message="5 ticks")
    assert cli("worker", "stop", timeout=60).stdout.strip() == "Stopped 3 workers."
    ids = ping_jobs()
    ticks = [calendar.timegm(time.strptime(job_id.split("@")[1], "%Y%m%dT%H%M%SZ"))
             for job_id in ids]
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))  # every second, no gap
    enqueued = Counter(line.split()[-1] for line in workers.logs().splitlines()
                       if "schedule ping: enqueued job" in line)
    assert sorted(enqueued) == ids and set(enqueued.values()) == {1}  # once, by one worker
    [schedule] = as_json(cli("schedule", "list", "--json"))
    assert schedule["last_job_id"] == ids[-1]


def test_pause_and_resume_with_a_live_worker(cli: Cli, workers: WorkerPool,
                                             db_path: Path) -> None:
    cli("queue", "pause", "slow")
    cli("enqueue", "-c", "true", "--id", "held", "--queue", "slow")
    workers.start(2)
    cli("enqueue", "-c", "true", "--id", "other")  # the worker is claiming: other runs...
    wait_until(lambda: counts(db_path)["completed"] == 1, timeout=30, message="other to run")
    assert as_json(cli("show", "held", "--json"))["state"] == "pending"  # ...held does not
    [paused] = [q for q in as_json(cli("queue", "list", "--json")) if q["name"] == "slow"]
    assert paused["paused"] is True and paused["jobs"]["pending"] == 1
    cli("queue", "resume", "slow")
    wait_until(lambda: counts(db_path)["completed"] == 2, timeout=30, message="held to run")
