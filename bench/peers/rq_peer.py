"""RQ on the local Redis: N ``rq worker`` processes (each forks a work horse per job, RQ's
default), quiet logging; jobs enqueued with ``Queue.enqueue_many`` in one pipeline."""

from __future__ import annotations

import time

from common import Context, wait_for
from peers.process import REDIS_URL, executable, peer_env, processes, redis_unavailable

NAME = "rq"
REDIS_DB = 11  # a database of its own, emptied before each run


def unavailable() -> str | None:
    try:
        import rq  # noqa: F401
    except ImportError:
        return "rq is not installed (bash bench/run.sh installs it)"
    return redis_unavailable()


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    import redis
    from rq import Queue

    folder = ctx.scratch(f"rq-{workers}")
    url = REDIS_URL.format(db=REDIS_DB)
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    queue = Queue("bench", connection=conn)
    argv = [executable("rq"), "worker", "--url", url, "--quiet", "bench"]
    with processes([argv] * workers, folder / "rq.log", peer_env()):
        for _ in range(workers):
            queue.enqueue("rq_tasks.run", "true")
        finished = queue.finished_job_registry
        wait_for(lambda: finished.count >= workers, 60, "rq workers to start")
        base = finished.count
        started = time.perf_counter()
        queue.enqueue_many([Queue.prepare_data("rq_tasks.run", (command,)) for _ in range(jobs)])
        wait_for(lambda: finished.count - base >= jobs, 900, f"rq to run {jobs} jobs")
        elapsed = time.perf_counter() - started
    conn.flushdb()
    conn.close()
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}
