"""Item 8, idle: CPU used by an idle worker (4 slots) over ``idle_seconds``, from /proc."""

from __future__ import annotations

import time

from common import Context, cpu_seconds, queuectl_worker
from queuectl import Queue


def measure(ctx: Context, slots: int = 4) -> dict[str, float]:
    folder = ctx.scratch("idle")
    db = folder / "queue.db"
    Queue(db).close()
    seconds = ctx.sizes.idle_seconds
    with queuectl_worker(db, slots, folder / "worker.log") as proc:
        time.sleep(min(1.0, seconds))  # start-up work is not idleness
        before, started = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(seconds)
        used, elapsed = cpu_seconds(proc.pid) - before, time.perf_counter() - started
    return {"cpu_percent": 100.0 * used / elapsed, "seconds": elapsed}
