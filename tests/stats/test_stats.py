"""The pure numbers: percentiles, summaries per queue, throughput series, histograms."""

from __future__ import annotations

import math

import pytest

from queuectl.stats import (
    DURATION_BUCKETS,
    FinishedRun,
    Histogram,
    QueueTotals,
    Spread,
    add_runs,
    merge_totals,
    percentile,
    summarize,
)

T0 = 1_767_225_600.0


def run(job: str, finished: float, *, took: float = 1.0, waited: float = 0.5, number: int = 1,
        ok: bool = True, dead: bool = False, queue: str = "default") -> FinishedRun:
    started = finished - took
    return FinishedRun(job, number, queue, started - waited, started, finished, ok, dead)


@pytest.mark.parametrize(("p", "expected"), [(1, 1.0), (50, 2.0), (75, 3.0), (95, 4.0),
                                             (100, 4.0)])
def test_percentile_is_nearest_rank(p: float, expected: float) -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], p) == expected


def test_percentile_of_one_value_and_of_none() -> None:
    assert percentile([7.0], 50) == percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_spread_of_many_values() -> None:
    spread = Spread.of(float(v) for v in range(100, 0, -1))  # 1..100, unsorted
    assert spread == Spread(count=100, p50=50.0, p95=95.0, max=100.0)
    assert Spread.of([]) is None


def test_summary_counts_runs_and_dead_jobs_and_rates() -> None:
    runs = [
        run("a", T0 + 10, took=2.0, waited=1.0),
        run("b", T0 + 20, took=4.0, waited=3.0, ok=False),
        run("b", T0 + 30, took=6.0, number=2, ok=False, dead=True),  # a retry: no wait time
        run("c", T0 + 40, took=8.0, waited=5.0),
    ]
    total = summarize(runs, T0, T0 + 100).total
    assert (total.completed, total.failed, total.dead) == (2, 2, 1)
    assert total.success_rate == 0.5
    assert total.throughput == pytest.approx(2 / 100)
    assert total.run_time == Spread(4, 4.0, 8.0, 8.0)
    assert total.wait_time == Spread(3, 3.0, 5.0, 5.0)


def test_summary_keeps_only_the_window_and_the_queue_asked_for() -> None:
    runs = [
        run("early", T0 - 1),
        run("a", T0, queue="mail"),
        run("b", T0 + 1, queue="default"),
        run("c", T0 + 2, queue="mail", ok=False),
        run("late", T0 + 60.5),  # the window is [since, until]
    ]
    stats = summarize(runs, T0, T0 + 60)
    assert [(s.queue, s.completed, s.failed) for s in stats.queues] == [
        ("default", 1, 0), ("mail", 1, 1)]
    assert (stats.total.queue, stats.total.completed, stats.total.failed) == (None, 2, 1)
    mail = summarize(runs, T0, T0 + 60, queue="mail")
    assert [s.queue for s in mail.queues] == ["mail"]
    assert (mail.total.completed, mail.total.failed) == (1, 1)


def test_an_empty_window_has_no_rates() -> None:
    total = summarize([], T0, T0 + 60).total
    assert (total.completed, total.success_rate, total.throughput) == (0, None, 0.0)
    assert total.run_time is None and total.wait_time is None
    assert total.to_dict()["run_time"] is None


def test_series_has_one_bucket_per_step() -> None:
    runs = [run("a", T0 + 5), run("b", T0 + 59.9, ok=False), run("c", T0 + 60),
            run("d", T0 + 180)]  # "d" finished at the end of the window: the last bucket
    series = summarize(runs, T0, T0 + 180, step=60).series
    assert [(b.start - T0, b.completed, b.failed) for b in series] == [
        (0, 1, 1), (60, 1, 0), (120, 1, 0)]
    assert summarize(runs, T0, T0 + 180).series == []


def test_stats_to_dict_names_every_figure() -> None:
    stats = summarize([run("a", T0 + 1, took=2.0, waited=1.0)], T0, T0 + 10)
    data = stats.to_dict()
    assert data["since"] == "2026-01-01T00:00:00.000Z"
    assert data["total"] == {
        "queue": None, "completed": 1, "failed": 0, "dead": 0, "success_rate": 1.0,
        "throughput_per_second": 0.1,
        "run_time": {"count": 1, "p50": 2.0, "p95": 2.0, "max": 2.0},
        "wait_time": {"count": 1, "p50": 1.0, "p95": 1.0, "max": 1.0},
    }
    assert [q["queue"] for q in data["queues"]] == ["default"]


def test_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    histogram = Histogram((1.0, 10.0))
    for value in (0.5, 1.0, 2.0, 10.0, 11.0):
        histogram.observe(value)
    assert histogram.cumulative() == [(1.0, 2), (10.0, 4), (math.inf, 5)]
    assert (histogram.count, histogram.sum) == (5, 24.5)
    assert Histogram().bounds == DURATION_BUCKETS


def test_totals_add_up_per_queue_and_merge() -> None:
    first: dict[str, QueueTotals] = {}
    add_runs(first, [run("a", T0, took=0.2), run("b", T0, ok=False, dead=True)])
    second: dict[str, QueueTotals] = {}
    add_runs(second, [run("c", T0, queue="mail"), run("d", T0, number=2)])
    merged = merge_totals(first, second)
    assert list(merged) == ["default", "mail"]
    default = merged["default"]
    assert (default.completed, default.failed, default.dead) == (2, 1, 1)
    assert default.run_time.count == 3
    assert default.wait_time.count == 2  # run 2 of "d" is a retry
    assert merged["mail"].completed == 1
    assert first["default"].completed == 1, "merging must not change its inputs"
