"""Huey with SQLite storage and thread workers.

Huey polls for work; its default delay grows from 0.1 s to 10 s while idle, which would
measure the poll and not the queue, so the consumer is given a short one (1 ms growing to
50 ms) and quiet logging: Huey at its best.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from common import Context, wait_for
from peers.process import PEERS_DIR, executable, peer_env, processes

NAME = "huey"


def unavailable() -> str | None:
    try:
        import huey  # noqa: F401
    except ImportError:
        return "huey is not installed (bash bench/run.sh installs it)"
    return None


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    if str(PEERS_DIR) not in sys.path:
        sys.path.append(str(PEERS_DIR))
    from huey_tasks import make_huey

    folder = ctx.scratch(f"huey-{workers}")
    filename = str(folder / "huey.db")
    huey, run = make_huey(filename)
    task: Any = run
    argv = [executable("huey_consumer"), "huey_tasks.huey", "-w", str(workers), "-k", "thread",
            "-d", "0.001", "-m", "0.05", "-q", "-C", "-n"]
    with processes([argv], folder / "huey.log", peer_env(BENCH_HUEY_DB=filename)):
        for _ in range(workers):
            task("true")
        wait_for(lambda: huey.result_count() >= workers, 60, "huey to start")
        base = huey.result_count()
        started = time.perf_counter()
        for _ in range(jobs):
            task(command)
        wait_for(lambda: huey.result_count() - base >= jobs, 600, f"huey to run {jobs} jobs")
        elapsed = time.perf_counter() - started
    huey.storage.close()
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}
