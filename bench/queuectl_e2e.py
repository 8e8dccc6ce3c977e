"""Item 2, queuectl end to end: from one enqueue of every job to the last one completed.

The worker (``queuectl worker start --count N``, logging to a file) is started and idle
first; the clock runs from the library's ``enqueue_many`` call to the moment no job is left
unfinished. Afterwards the database is checked for jobs run twice. The CPU the worker used per
job is read from /proc, split between its coordinator thread and its slot threads (by the names
the worker gives them: worker/thread_names.py): that is where a queue's overhead shows on a
machine whose cores are busy spawning.
"""

from __future__ import annotations

import time
from pathlib import Path

from common import (
    Context,
    children_cpu_seconds,
    cpu_seconds,
    duplicate_runs,
    queuectl_worker,
    thread_cpu_seconds,
    thread_names,
    unfinished,
    wait_for,
)
from queuectl import Queue


def drain(ctx: Context, command: str, jobs: int, slots: int, *, db: Path | None = None,
          quiet: bool = False, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``jobs`` copies of ``command`` with one worker of ``slots`` slots.

    Returns the wall time in seconds, jobs per second and the number of duplicate runs.
    ``db`` may name an existing database (the scale benchmark's); by default a fresh one.
    """
    folder = ctx.scratch(f"queuectl-{slots}")
    db = db or folder / "queue.db"
    Queue(db).close()  # create and migrate it before the clock starts
    before = duplicate_runs(db)
    with queuectl_worker(db, slots, folder / "worker.log", quiet=quiet,
                         extra_env=extra_env, settle=ctx.sizes.worker_settle) as worker:
        remaining = unfinished(db)
        with Queue(db) as queue:
            cpu_before = thread_cpu_seconds(worker.pid)
            total_before = cpu_seconds(worker.pid), children_cpu_seconds(worker.pid)
            started = time.perf_counter()
            queue.enqueue_many([{"command": command}] * jobs)
            wait_for(lambda: remaining() == 0, timeout=600, what=f"{jobs} jobs to finish")
            elapsed = time.perf_counter() - started
            cpu_after = thread_cpu_seconds(worker.pid)
            total_after = cpu_seconds(worker.pid), children_cpu_seconds(worker.pid)
            names = thread_names(worker.pid)
    used = {tid: cpu - cpu_before.get(tid, 0.0) for tid, cpu in cpu_after.items()}
    # The worker names its threads (worker/thread_names.py); the main thread only waits.
    coordinator = sum(cpu for tid, cpu in used.items() if names.get(tid) == "coordinator")
    slot_cpu = sum(cpu for tid, cpu in used.items() if names.get(tid, "").startswith("slot-"))
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed,
            "duplicates": float(duplicate_runs(db) - before),
            "coordinator_cpu_ms_per_job": 1000 * coordinator / jobs,
            "slots_cpu_ms_per_job": 1000 * slot_cpu / jobs,
            # The whole worker process, and the jobs' processes it reaped: on a machine whose
            # cores are saturated, throughput follows their sum.
            "worker_cpu_ms_per_job": 1000 * (total_after[0] - total_before[0]) / jobs,
            "children_cpu_ms_per_job": 1000 * (total_after[1] - total_before[1]) / jobs}
