"""Item 5, latency: from the ``Queue.enqueue`` call to the job's first instruction.

The peers are measured the same way where they can be (``latency`` in each peer module).

One worker with 4 slots sits idle; each job is enqueued alone, after the previous one has
finished and a short pause, and prints ``date +%s.%N`` as its first act. Latency is that time
minus the job's ``created_at``, stamped in the enqueue's transaction (issue 15 item 4): the
enqueue's commit, the wake-up, the claim and the start. The claim latency (``started_at`` of
the attempt, from the same stamp) and the enqueue call itself are reported beside it.
"""

from __future__ import annotations

import random
import time

from common import Context, percentile, queuectl_worker, wait_for
from queuectl import JobState, Queue

TERMINAL = (JobState.COMPLETED, JobState.DEAD)


def measure(ctx: Context, slots: int = 4) -> dict[str, float]:
    folder = ctx.scratch("latency")
    db = folder / "queue.db"
    Queue(db).close()
    starts: list[float] = []
    claims: list[float] = []
    calls: list[float] = []
    pause = random.Random(7)
    with queuectl_worker(db, slots, folder / "worker.log"), Queue(db) as queue:
        for _ in range(ctx.sizes.latency_jobs):
            time.sleep(pause.uniform(0.01, 0.03))  # let the worker go back to sleep
            called = time.time()
            job_id = queue.enqueue("date +%s.%N").id
            calls.append(time.time() - called)
            wait_for(lambda: queue.get(job_id).state in TERMINAL, 30,  # noqa: B023
                     "the job to finish", interval=0.002)
            attempt = queue.attempts(job_id)[-1]
            created = queue.get(job_id).created_at
            starts.append(float(attempt.output.decode().strip()) - created)
            claims.append(attempt.started_at - created)
    ms = 1000.0
    return {
        **summarize(starts),
        "claim_p50_ms": percentile(claims, 0.5) * ms, "claim_p99_ms": percentile(claims, 0.99) * ms,
        "enqueue_call_p50_ms": percentile(calls, 0.5) * ms,
    }


def summarize(latencies: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds of latencies given in seconds."""
    return {"p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": max(latencies) * 1000}
