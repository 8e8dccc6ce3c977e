"""Many processes on one queue: nothing lost, nothing doubled, no "database is locked"."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.helpers import Cli, WorkerPool, as_json, counts, wait_until

# One enqueuer: runs the CLI's entry point once per job, in one process, so that every job is
# a separate CLI invocation (its own connection and transaction) without paying for 1,600
# interpreter start-ups on a 2-core machine.
ENQUEUER = """
import sys
from queuectl.cli import main

tag, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    job_id = f"{tag}-{n}"
    try:
        main(["enqueue", "--command", f"echo {job_id} >> ids.txt", "--id", job_id])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
"""


def appended_ids(path: Path) -> Counter[str]:
    return Counter(path.read_text().split()) if path.exists() else Counter()


def assert_clean(logs: str) -> None:
    assert "database is locked" not in logs
    assert "Traceback" not in logs


def test_three_workers_with_four_slots_run_300_jobs_exactly_once(
    cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path
) -> None:
    ids = [f"job-{n:03}" for n in range(300)]
    lines = "".join(f'{{"id":"{i}","command":"echo {i} >> ids.txt"}}\n' for i in ids)
    cli("enqueue", "--file", "-", input=lines)
    pool = [workers.start(4, wait=False) for _ in range(3)]  # all three race for the jobs

    wait_until(lambda: counts(db_path)["completed"] == 300, timeout=120, interval=0.25,
               message="300 completed jobs")
    assert appended_ids(tmp_path / "ids.txt") == Counter(ids)  # every id exactly once

    done = as_json(cli("list", "--state", "completed", "--limit", "1000", "--json"))
    assert sorted(job["id"] for job in done) == ids
    assert {(job["attempts"], job["runs"], job["exit_code"]) for job in done} == {(1, 1, 0)}
    assert as_json(cli("status", "--json"))["jobs"] == {
        "pending": 0, "processing": 0, "completed": 300, "failed": 0, "dead": 0, "canceled": 0}

    assert cli("worker", "stop", timeout=120).stdout.strip() == "Stopped 3 workers."
    assert [worker.wait() for worker in pool] == [0, 0, 0]
    assert_clean(workers.logs())


def test_concurrent_enqueuers_while_workers_run_lose_nothing(
    cli: Cli, workers: WorkerPool, db_path: Path, tmp_path: Path
) -> None:
    pool = [workers.start(4) for _ in range(2)]
    enqueuers = []
    for n in range(8):
        log = tmp_path / f"enqueuer-{n}.log"
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-c", ENQUEUER, f"e{n}", "200"], env=cli.env, cwd=tmp_path,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            )
        enqueuers.append((proc, log))
    try:
        codes = [proc.wait(timeout=240) for proc, _ in enqueuers]
    finally:
        for proc, _ in enqueuers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    enqueuer_logs = "\n".join(log.read_text(errors="replace") for _, log in enqueuers)
    assert codes == [0] * 8, enqueuer_logs
    assert enqueuer_logs.strip() == ""

    expected = Counter(f"e{n}-{i}" for n in range(8) for i in range(200))
    wait_until(lambda: counts(db_path)["completed"] == 1600, timeout=240, interval=0.5,
               message="1,600 completed jobs")
    assert appended_ids(tmp_path / "ids.txt") == expected
    assert counts(db_path) == {"pending": 0, "processing": 0, "completed": 1600, "failed": 0,
                               "dead": 0, "canceled": 0}

    assert cli("worker", "stop", timeout=120).stdout.strip() == "Stopped 2 workers."
    assert [worker.wait() for worker in pool] == [0, 0]
    assert_clean(workers.logs())
