"""Huey with SQLite storage and thread workers.

Huey polls for work; its default delay grows from 0.1 s to 10 s while idle, which would
measure the poll and not the queue, so the consumer is given a short one (1 ms growing to
50 ms) and quiet logging: Huey at its best.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from common import Context, wait_for
from peers.process import PEERS_DIR, executable, measure_latency, peer_env, processes

NAME = "huey"


def unavailable() -> str | None:
    try:
        import huey  # noqa: F401
    except ImportError:
        return "huey is not installed (bash bench/run.sh installs it)"
    return None


@contextmanager
def _consumer(ctx: Context, workers: int) -> Iterator[tuple[Any, Any, Any]]:
    """A consumer started on a new database; yields (huey, run task, capture task)."""
    if str(PEERS_DIR) not in sys.path:
        sys.path.append(str(PEERS_DIR))
    from huey_tasks import make_huey

    folder = ctx.scratch(f"huey-{workers}")
    filename = str(folder / "huey.db")
    argv = [executable("huey_consumer"), "huey_tasks.huey", "-w", str(workers), "-k", "thread",
            "-d", "0.001", "-m", "0.05", "-q", "-C", "-n"]
    huey, run, capture = make_huey(filename)
    with processes([argv], folder / "huey.log", peer_env(BENCH_HUEY_DB=filename)):
        yield huey, run, capture
    huey.storage.close()


def latency(ctx: Context, jobs: int, workers: int) -> list[float]:
    """Seconds from each enqueue call to its job's first instruction, the consumer idle."""
    with _consumer(ctx, workers) as (_, _run, capture):
        capture("true").get(blocking=True, timeout=60)
        return measure_latency(lambda command: capture(command).get(blocking=True, timeout=60),
                               jobs)


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    with _consumer(ctx, workers) as (huey, task, _):
        for _ in range(workers):
            task("true")
        wait_for(lambda: huey.result_count() >= workers, 60, "huey to start")
        base = huey.result_count()
        started = time.perf_counter()
        for _ in range(jobs):
            task(command)
        wait_for(lambda: huey.result_count() - base >= jobs, 600, f"huey to run {jobs} jobs")
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}
