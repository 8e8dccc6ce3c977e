"""Item 6, storage: claim+complete cycles per second with no command run.

Each process loops on ``Storage.record_and_claim`` as a one-slot worker does: one
transaction records the job it holds as completed and claims the next one. The jobs are
enqueued beforehand; the clock runs from the moment every process is ready to the last commit.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from common import median
from queuectl import JobState, Queue
from queuectl.models import Outcome
from queuectl.storage import open_storage


def _cycle(db: str, worker_id: str, ready: Any, go: Any, report: Any) -> None:
    storage = open_storage(db)  # a SQLite file or a PostgreSQL URL
    ready.put(1)
    go.wait()
    started = time.perf_counter()
    cycles = 0
    outcomes: list[Outcome] = []
    while True:
        now = time.time()
        claimed, _ = storage.record_and_claim(worker_id, outcomes, 1, now, now + 30)
        cycles += len(outcomes)
        if not claimed:
            break
        outcomes = [Outcome(job.id, job.runs, JobState.COMPLETED, time.time(), exit_code=0)
                    for job in claimed]
    storage.close()
    report.put((started, time.perf_counter(), cycles))


def measure(db: Path | str, cycles: int, processes: int) -> dict[str, float]:
    """Enqueue ``cycles`` jobs into ``db`` (a file or a PostgreSQL URL) and run them through
    ``processes`` processes."""
    with Queue(db) as queue:
        queue.enqueue_many([{"command": "true"}] * cycles)
    mp = multiprocessing.get_context("fork")
    ready, report, go = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=_cycle, args=(str(db), f"bench-{n}", ready, go, report))
             for n in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=60)
    go.set()
    results = [report.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    done = sum(result[2] for result in results)
    if done != cycles:
        raise RuntimeError(f"storage cycles: {done} jobs completed, {cycles} enqueued")
    elapsed = max(r[1] for r in results) - min(r[0] for r in results)
    return {"cycles_per_second": cycles / elapsed, "seconds": elapsed}


def summarize(samples: list[dict[str, float]]) -> float:
    return median([sample["cycles_per_second"] for sample in samples])
