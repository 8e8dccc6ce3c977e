"""RQ on the local Redis: N ``rq worker`` processes (each forks a work horse per job, RQ's
default), quiet logging; jobs enqueued with ``Queue.enqueue_many`` in one pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from common import Context, wait_for
from peers.process import (
    REDIS_URL,
    executable,
    measure_latency,
    peer_env,
    processes,
    redis_unavailable,
)

NAME = "rq"
REDIS_DB = 11  # a database of its own, emptied before each run


def unavailable() -> str | None:
    try:
        import rq  # noqa: F401
    except ImportError:
        return "rq is not installed (bash bench/run.sh installs it)"
    return redis_unavailable()


@contextmanager
def _workers(ctx: Context, workers: int) -> Iterator[Any]:
    """``workers`` RQ workers on an emptied Redis database; yields the queue."""
    import redis
    from rq import Queue

    folder = ctx.scratch(f"rq-{workers}")
    url = REDIS_URL.format(db=REDIS_DB)
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    argv = [executable("rq"), "worker", "--url", url, "--quiet", "bench"]
    with processes([argv] * workers, folder / "rq.log", peer_env()):
        yield Queue("bench", connection=conn)
    conn.flushdb()
    conn.close()


def _run_and_wait(queue: Any, command: str) -> str:
    job = queue.enqueue("rq_tasks.capture", command)
    wait_for(lambda: job.get_status(refresh=True) in ("finished", "failed"), 60, "an rq job",
             interval=0.002)
    return str(job.return_value())


def latency(ctx: Context, jobs: int, workers: int) -> list[float]:
    """Seconds from each enqueue call to its job's first instruction, the workers idle."""
    with _workers(ctx, workers) as queue:
        _run_and_wait(queue, "true")
        return measure_latency(lambda command: _run_and_wait(queue, command), jobs)


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    from rq import Queue

    with _workers(ctx, workers) as queue:
        for _ in range(workers):
            queue.enqueue("rq_tasks.run", "true")
        finished = queue.finished_job_registry
        wait_for(lambda: finished.count >= workers, 60, "rq workers to start")
        base = finished.count
        started = time.perf_counter()
        queue.enqueue_many([Queue.prepare_data("rq_tasks.run", (command,)) for _ in range(jobs)])
        wait_for(lambda: finished.count - base >= jobs, 900, f"rq to run {jobs} jobs")
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}
