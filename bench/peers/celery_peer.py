"""Celery on the local Redis (broker and result backend): one prefork worker with
``--concurrency N`` (Celery's default pool), warnings-only logging."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from common import Context, wait_for
from peers.process import (
    PEERS_DIR,
    REDIS_URL,
    executable,
    measure_latency,
    peer_env,
    processes,
    redis_unavailable,
)

NAME = "celery"
REDIS_DB = 12  # a database of its own, emptied before each run


def unavailable() -> str | None:
    try:
        import celery  # noqa: F401
    except ImportError:
        return "celery is not installed (bash bench/run.sh installs it)"
    return redis_unavailable()


@contextmanager
def _worker(ctx: Context, workers: int) -> Iterator[tuple[Any, Any]]:
    """A Celery worker on an emptied Redis database; yields (app, redis connection)."""
    import redis
    from celery import Celery

    folder = ctx.scratch(f"celery-{workers}")
    url = REDIS_URL.format(db=REDIS_DB)
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    app = Celery("bench", broker=url, backend=url)
    app.conf.update(broker_connection_retry_on_startup=True)

    argv = [executable("celery"), "-A", "celery_tasks", "worker", "--concurrency", str(workers),
            "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    if str(PEERS_DIR) not in sys.path:
        sys.path.append(str(PEERS_DIR))
    with processes([argv], folder / "celery.log", peer_env(BENCH_REDIS_URL=url)):
        yield app, conn
    conn.flushdb()
    conn.close()
    app.close()


def latency(ctx: Context, jobs: int, workers: int) -> list[float]:
    """Seconds from each enqueue call to its job's first instruction, the worker idle."""
    with _worker(ctx, workers) as (app, _):
        def run_and_wait(command: str) -> str:
            return str(app.send_task("bench.capture", (command,)).get(timeout=60))

        run_and_wait("true")
        return measure_latency(run_and_wait, jobs)


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    with _worker(ctx, workers) as (app, conn):
        def done() -> int:
            return len(conn.keys("celery-task-meta-*"))

        for _ in range(workers):
            app.send_task("bench.run", ("true",))
        wait_for(lambda: done() >= workers, 60, "celery to start")
        base = done()
        started = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for _ in range(jobs):
                app.send_task("bench.run", (command,), producer=producer)
        wait_for(lambda: done() - base >= jobs, 900, f"celery to run {jobs} jobs")
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}
