"""Counts and statistics from what the database keeps as jobs change (migration 0009), on
both backends: the same figures as a scan of every job and a fold of every run."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import queuectl.stats_window
from queuectl import Queue
from queuectl.clock import FakeClock
from queuectl.rollups import histogram_spread
from queuectl.stats import Spread
from queuectl.storage.sqlite.migrate import NAMES as SQLITE_NAMES
from tests.helpers import drain
from tests.stats.conftest import fake_clock
from tests.storage.conftest import execute_raw


@pytest.fixture
def queue(queue_on_each_backend: Queue) -> Queue:
    return queue_on_each_backend


def _scanned(queue: Queue) -> dict[tuple[str, str], int]:
    rows = execute_raw(queue.storage, "SELECT queue, state, COUNT(*) FROM jobs GROUP BY 1, 2")
    return {(name, state): int(n) for name, state, n in rows}


def _fill(queue: Queue, gap: float = 43.0) -> None:
    clock = fake_clock(queue)
    for minute in range(5):  # runs over several minutes (hours, with a long gap), two queues
        for n in range(3):
            queue.enqueue("true", id=f"ok-{minute}-{n}", queue="a" if n else "b")
        queue.enqueue("exit 3", id=f"bad-{minute}", max_retries=1, queue="a")
        clock.advance(17.0)
        drain(queue)
        clock.advance(gap)
        drain(queue)  # the retries, due by now
    queue.enqueue("sleep 1", id="waiting", queue="c")
    queue.enqueue("true", id="canceled")
    queue.cancel(["canceled"])


def test_counts_per_queue_and_state_follow_every_change(queue: Queue) -> None:
    _fill(queue)
    counted = {(info.name, state.value): n for info in queue.queues.list()
               for state, n in info.counts.items() if n}
    assert counted == _scanned(queue)
    queue.delete(["ok-0-1", "bad-0"])
    counted = {(info.name, state.value): n for info in queue.queues.list()
               for state, n in info.counts.items() if n}
    assert counted == _scanned(queue)
    by_state = {state.value: n for state, n in queue.counts().items() if n}
    assert by_state == {"completed": 14, "dead": 4, "pending": 1, "canceled": 1}


def test_a_large_window_from_rollups_counts_what_the_runs_do(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(queue)
    fake_clock(queue).advance(30.0)
    exact = queue.stats("4m", step=60)
    monkeypatch.setattr(queuectl.stats_window, "EXACT_RUNS", 0)
    rolled = queue.stats("4m", step=60)
    for mine, theirs in [(rolled.total, exact.total), *zip(rolled.queues, exact.queues,
                                                            strict=True)]:
        assert (mine.queue, mine.completed, mine.failed, mine.dead) == (
            theirs.queue, theirs.completed, theirs.failed, theirs.dead)
        assert mine.run_time is not None and theirs.run_time is not None
        assert mine.run_time.count == theirs.run_time.count
    assert [(b.completed, b.failed) for b in rolled.series] == [
        (b.completed, b.failed) for b in exact.series]
    points = queue.stats_series("10m", queue="a", bars=10)
    assert len(points) == 10 and points[-1].start <= queue.clock.now() < points[-1].start + 60
    assert sum(p.completed for p in points) == 10 and sum(p.failed for p in points) == 10


@pytest.mark.parametrize("window", ["4m", "150s", "200s", "1h"])
def test_totals_from_rollups_count_the_partial_minutes_at_both_ends_as_the_runs_do(
    queue: Queue, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    _fill(queue)
    fake_clock(queue).advance(30.0)
    exact = queue.stats(window)
    monkeypatch.setattr(queuectl.stats_window, "EXACT_RUNS", 0)
    rolled = queue.stats(window)  # no bars: the ends are counted in SQL (run_counts)
    assert exact.total.completed + exact.total.failed > 0
    for mine, theirs in [(rolled.total, exact.total), *zip(rolled.queues, exact.queues,
                                                            strict=True)]:
        assert (mine.queue, mine.completed, mine.failed, mine.dead) == (
            theirs.queue, theirs.completed, theirs.failed, theirs.dead)
        mine_waited = mine.wait_time.count if mine.wait_time else 0
        assert mine_waited == (theirs.wait_time.count if theirs.wait_time else 0)


def test_a_window_of_hours_counts_whole_hours_from_the_hourly_rollups(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(queue, gap=50 * 60.0)  # five rounds of runs over four hours
    fake_clock(queue).advance(600.0)
    exact = queue.stats("210m")
    monkeypatch.setattr(queuectl.stats_window, "EXACT_RUNS", 0)
    rolled = queue.stats("210m")
    assert rolled.to_dict()["total"]["completed"] == exact.total.completed > 0
    for mine, theirs in [(rolled.total, exact.total), *zip(rolled.queues, exact.queues,
                                                            strict=True)]:
        assert (mine.queue, mine.completed, mine.failed, mine.dead) == (
            theirs.queue, theirs.completed, theirs.failed, theirs.dead)
        assert (mine.wait_time and mine.wait_time.count) == (
            theirs.wait_time and theirs.wait_time.count)


def test_metrics_totals_come_from_the_rollups(queue: Queue) -> None:
    _fill(queue)
    totals = queue.run_totals()
    assert {name: (t.completed, t.failed, t.dead) for name, t in totals.items()} == {
        "a": (10, 10, 5), "b": (5, 0, 0)}
    assert totals["a"].run_time.count == 20 and totals["a"].wait_time.count == 15


def test_histogram_percentiles_are_read_inside_their_bucket_capped_at_the_max() -> None:
    from queuectl.rollups import HistogramRow

    rows = [HistogramRow("q", 0, 0.1, 90, 8.1, 0.0999, 0.08),
            HistogramRow("q", 0, 5.0, 10, 45, 4.8, 4.0)]
    spread = histogram_spread(rows, 100)
    assert spread is not None and spread.max == 4.8
    assert spread.p50 == pytest.approx(0.08 + 0.02 * 50 / 90)
    assert spread.p95 == pytest.approx(4.5)
    rows = [HistogramRow("q", 0, 5.0, 10, 49, 4.99, 4.0)]  # never above the largest value
    assert histogram_spread(rows, 10) == Spread(10, 4.5, 4.95, 4.99)


def test_an_older_database_is_counted_when_migrated(queue: Queue) -> None:
    _fill(queue)
    before = (_scanned(queue), _totals(queue))
    location = queue.storage.url
    queue.close()
    _back_a_version(location)  # as an older queuectl left it
    with Queue(location, clock=FakeClock(), environ={}) as again:
        counted = {(info.name, state.value): n for info in again.queues.list()
                   for state, n in info.counts.items() if n}
        assert counted == before[0]
        assert _totals(again) == before[1]


def _back_a_version(location: str) -> None:
    from queuectl.storage import open_storage

    tables = ("job_counts", "run_minutes", "run_hours", "duration_bounds")
    if "://" not in location:
        # Back to before the counts, and the migrations after them (0010 counts by batch).
        with sqlite3.connect(location) as db:
            for name in (*tables, "counting_deferred"):
                db.execute(f"DROP TABLE {name}")
            for name in ("jobs_counted_delete", "jobs_counted_update", "attempts_finished",
                         "jobs_died_running"):
                db.execute(f"DROP TRIGGER {name}")
            db.execute(f"PRAGMA user_version = {SQLITE_NAMES.index('0009_counts_and_rollups')}")
        return
    from queuectl.storage.postgres.migrate import NAMES

    # Back to before the counts (and the migrations after them, which apply again as they are)
    counted_since = NAMES.index("0009_counts_and_rollups") + 1
    store = open_storage(location)
    for statement in (
        "DROP FUNCTION jobs_counted() CASCADE", "DROP FUNCTION attempts_finished() CASCADE",
        *(f"DROP TABLE {name}" for name in tables),
        f"DELETE FROM schema_version WHERE version >= {counted_since}",
    ):
        execute_raw(store, statement)
    store.close()


def _totals(queue: Queue) -> dict[str, Any]:
    return {name: (t.completed, t.failed, t.dead, t.run_time.counts, t.wait_time.counts,
                   t.wait_time.sum) for name, t in queue.run_totals().items()}


def test_an_import_is_counted_as_it_was(queue: Queue, tmp_path: Path) -> None:
    _fill(queue)
    exported = list(queue.export_lines())
    with Queue(tmp_path / "imported.db", clock=FakeClock(), environ={}) as other:
        other.import_lines(exported)
        counted = {(info.name, state.value): n for info in other.queues.list()
                   for state, n in info.counts.items() if n}
        assert counted == _scanned(queue) == _scanned(other)
        assert _totals(other) == _totals(queue)
