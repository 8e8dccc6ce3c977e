"""Item 2, queuectl end to end: from one enqueue of every job to the last one completed.

The worker (``queuectl worker start --count N``, logging every job to a file as it does by
default) is started and idle first; the clock runs from the library's ``enqueue_many`` call to
the moment no job is left unfinished. Afterwards the database is checked for jobs run twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from common import Context, duplicate_runs, queuectl_worker, unfinished, wait_for
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
    with queuectl_worker(db, slots, folder / "worker.log", quiet=quiet, extra_env=extra_env):
        remaining = unfinished(db)
        with Queue(db) as queue:
            started = time.perf_counter()
            queue.enqueue_many([{"command": command}] * jobs)
            wait_for(lambda: remaining() == 0, timeout=600, what=f"{jobs} jobs to finish")
            elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed,
            "duplicates": float(duplicate_runs(db) - before)}
