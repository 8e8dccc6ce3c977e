"""``Queue.stats`` and ``Queue.finished_runs`` over a real SQLite file, on a fake clock."""

from __future__ import annotations

import pytest

import queuectl.queue.history
from queuectl import InvalidInput, Queue
from queuectl.clock import FakeClock
from tests.helpers import drain


def test_wait_time_is_enqueue_to_first_start(queue: Queue, clock: FakeClock) -> None:
    queue.enqueue("true", id="quick")
    clock.advance(2.0)
    queue.enqueue("true", id="slow")
    clock.advance(3.0)
    drain(queue)  # both start now: waited 5 s and 3 s
    total = queue.stats("1h").total
    assert total.completed == 2
    assert total.wait_time is not None
    assert (total.wait_time.p50, total.wait_time.max) == (3.0, 5.0)


def test_failures_retries_and_dead_jobs(queue: Queue, clock: FakeClock) -> None:
    queue.config_set("backoff_base", "2")
    queue.enqueue("exit 4", id="doomed", max_retries=1)
    queue.enqueue("true", id="fine")
    drain(queue)  # doomed fails once (retry in 2 s), fine completes
    clock.advance(2.0)
    drain(queue)  # doomed fails again: dead
    total = queue.stats(60).total
    assert (total.completed, total.failed, total.dead) == (1, 2, 1)
    assert total.success_rate == pytest.approx(1 / 3)
    assert total.wait_time is not None and total.wait_time.count == 2  # first runs only


def test_the_window_excludes_older_runs(queue: Queue, clock: FakeClock) -> None:
    queue.enqueue("true", id="old")
    drain(queue)
    clock.advance(120)
    queue.enqueue("true", id="new")
    drain(queue)
    assert queue.stats("1m").total.completed == 1
    assert queue.stats("3m").total.completed == 2
    assert [s.queue for s in queue.stats("3m", queue="default").queues] == ["default"]
    assert queue.stats("3m", queue="other").queues == []


def test_finished_runs_reads_page_by_page_across_equal_times(
    queue: Queue, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queuectl.queue.history, "_RUNS_PAGE", 3)
    queue.enqueue_many([{"id": f"j{i}", "command": "true"} for i in range(8)])
    drain(queue)  # on a fake clock all eight finish at the same instant
    runs = list(queue.finished_runs(clock.now() - 1, clock.now() + 1))
    assert sorted(r.job_id for r in runs) == [f"j{i}" for i in range(8)]


@pytest.mark.parametrize("since", ["0", "soon", "-5m"])
def test_stats_refuses_a_bad_window(queue: Queue, since: str) -> None:
    with pytest.raises(InvalidInput, match="since"):
        queue.stats(since)
