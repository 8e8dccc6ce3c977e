"""Stats and metrics group runs by the job's named queue."""

from __future__ import annotations

from queuectl import Queue


def test_stats_are_kept_per_named_queue(live_queue: Queue) -> None:
    live_queue.enqueue_many([{"command": "true", "queue": "etl"}] * 3
                            + [{"command": "false", "max_retries": 0}])
    live_queue.worker(slots=2).run(burst=True)
    stats = live_queue.stats("1h")
    by_queue = {summary.queue: (summary.completed, summary.failed) for summary in stats.queues}
    assert by_queue == {"default": (0, 1), "etl": (3, 0)}
    assert [s.completed for s in live_queue.stats("1h", queue="etl").queues] == [3]
