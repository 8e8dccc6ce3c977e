"""Statistics of large windows from the rollups the database keeps (migration 0009).

``stats.summarize`` folds every run of a window: exact, but a million runs take seconds to
read. As each run finishes, the database also counts it per queue and minute, and adds its
run time (and its first run's wait) to histograms per queue and hour. A window with more
than ``EXACT_RUNS`` runs is summarized from those instead (``Queue.stats``):

- counts, throughput and the series are exact: whole minutes come from the rollups, and the
  partial minutes at both ends of the window from the runs themselves;
- p50 and p95 come from the histograms of the hours the window touches, read inside their
  bucket by linear interpolation (``histogram_spread``), never above the largest value
  measured. Bucket bounds are at most 25% apart (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10
  ...), so a percentile is off by less than its bucket's width;
- max is exact over those hours.

A job's runs stay counted after it is purged, as Prometheus counters expect.

What is kept (workers prune it with the jobs, see ``Housekeeping.prune``):

- minute rows for ``MINUTES_KEPT`` (8 days): the longest window read at minute resolution
  is ``MINUTE_WINDOW`` (7 days, the dashboard's longest chart), and a day more covers
  clocks that disagree. Bars of a longer window come from the hourly rows before it, each
  hour in the bar its start is in; the totals of a longer window lose the minutes of its
  first part-hour (not its whole hours);
- hourly rows for ``HOURS_KEPT`` (400 days: a year's windows and more). Older ones are
  folded into hour 0 rather than deleted: /metrics' totals read every hour from 0 on and
  keep counting every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .stats import Bucket, FinishedRun, Spread, Stats, Summary, summarize

KIND_COMPLETED, KIND_FAILED, KIND_WAIT, KIND_DEAD = 0, 1, 2, 3  # run_hours.kind
EXACT_RUNS = 5_000  # up to this many runs in a window, stats fold the runs themselves (~50 ms)
MINUTE, HOUR, DAY = 60, 3600, 86400
MINUTE_WINDOW = 7 * DAY  # windows read minute rows for their last 7 days; hours before
MINUTES_KEPT = MINUTE_WINDOW + DAY
HOURS_KEPT = 400 * DAY


@dataclass(frozen=True, slots=True)
class MinuteCounts:
    """One queue's runs that finished in the minutes summed from ``minute`` on; ``waited``
    first runs waited ``wait_total`` seconds from enqueue to start, all together."""

    minute: float
    queue: str
    completed: int
    failed: int
    dead: int
    waited: int
    wait_total: float


@dataclass(frozen=True, slots=True)
class HistogramRow:
    """``count`` values of one kind (``KIND_*``) in one queue, above ``lower`` (the bucket
    bound before ``upper``) and at most ``upper``, summing to ``total``, the largest ``top``."""

    queue: str
    kind: int
    upper: float
    count: int
    total: float
    top: float
    lower: float = 0.0


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bar of a per-queue chart: runs that finished in ``[start, start + step)``, and
    the mean wait (enqueue to start) of the first runs among them (None: none)."""

    start: float
    completed: int
    failed: int
    wait_mean: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return {"start": self.start, "completed": self.completed, "failed": self.failed,
                "wait_mean": self.wait_mean}


def floor_to(seconds: float, unit: int) -> int:
    return math.floor(seconds / unit) * unit


def ceil_to(seconds: float, unit: int) -> int:
    return math.ceil(seconds / unit) * unit


def histogram_spread(rows: Iterable[HistogramRow], count: int) -> Spread | None:
    """p50, p95 and max from histogram rows (see the module's docstring); ``count`` is the
    exact number of values in the window, which the spread reports. A percentile is read
    in its bucket by linear interpolation, as Prometheus' ``histogram_quantile`` does:
    runs of 0.9, 1.1 and 1.3 s (buckets 0.8-1, 1-1.25 and 1.25-1.5 s) put the median, rank
    1.5 of 3, half way into the second bucket.

    >>> rows = [HistogramRow("q", 0, 1.0, 1, 0.9, 0.9, 0.8),
    ...         HistogramRow("q", 0, 1.25, 1, 1.1, 1.1, 1.0),
    ...         HistogramRow("q", 0, 1.5, 1, 1.3, 1.3, 1.25)]
    >>> histogram_spread(rows, 3)
    Spread(count=3, p50=1.125, p95=1.3, max=1.3)
    """
    buckets: dict[float, list[float]] = {}  # upper -> [lower, count]
    top = 0.0
    for row in rows:
        bucket = buckets.setdefault(row.upper, [row.lower, 0])
        bucket[1] += row.count
        top = max(top, row.top)
    measured = sum(int(n) for _, n in buckets.values())
    if not count or not measured:
        return None
    ordered = sorted(buckets.items())

    def at(p: float) -> float:
        rank, running = p / 100 * measured, 0.0
        for upper, (lower, n) in ordered:
            if n and running + n >= rank:
                if math.isinf(upper):
                    return top
                return min(lower + (upper - lower) * max(0.0, rank - running) / n, top)
            running += n
        return top

    return Spread(count, at(50), at(95), top)


def summarize_rollups(
    minutes: Sequence[MinuteCounts],
    histograms: Sequence[HistogramRow],
    edge_runs: Iterable[FinishedRun],
    since: float,
    until: float,
    *,
    queue: str | None = None,
    step: float | None = None,
) -> Stats:
    """What ``stats.summarize`` gives for ``[since, until]``, from the whole minutes inside
    it (``minutes``), the runs of the partial minutes at its ends (``edge_runs``) and the
    histograms of the hours it touches."""
    edges = summarize(edge_runs, since, until, queue=queue, step=step)
    counts: dict[str, list[int]] = {}  # completed, failed, dead, waited
    for summary in edges.queues:
        counts[summary.queue or ""] = [
            summary.completed, summary.failed, summary.dead,
            summary.wait_time.count if summary.wait_time else 0]
    width = step if step and step > 0 else 0.0
    bars = [[bucket.completed, bucket.failed] for bucket in edges.series]
    for row in minutes:
        if queue is not None and row.queue != queue:
            continue
        mine = counts.setdefault(row.queue, [0, 0, 0, 0])
        mine[0] += row.completed
        mine[1] += row.failed
        mine[2] += row.dead
        mine[3] += row.waited
        if bars:
            bar = bars[min(int((row.minute - since) // width), len(bars) - 1)]
            bar[0] += row.completed
            bar[1] += row.failed
    seconds = max(0.0, until - since)
    by_queue: dict[str, list[HistogramRow]] = {}
    for hist in histograms:
        if queue is None or hist.queue == queue:
            by_queue.setdefault(hist.queue, []).append(hist)

    def summary_of(name: str | None, numbers: list[int], rows: list[HistogramRow]) -> Summary:
        completed, failed, dead, waited = numbers
        runs = [row for row in rows if row.kind in (KIND_COMPLETED, KIND_FAILED)]
        waits = [row for row in rows if row.kind == KIND_WAIT]
        return Summary(name, seconds, completed, failed, dead,
                       histogram_spread(runs, completed + failed), histogram_spread(waits, waited))

    names = sorted(name for name, numbers in counts.items() if any(numbers))
    total = [sum(counts[name][i] for name in names) for i in range(4)]
    every_row = [row for name in names for row in by_queue.get(name, [])]
    return Stats(
        since, until, summary_of(None, total, every_row),
        [summary_of(name, counts[name], by_queue.get(name, [])) for name in names],
        [Bucket(since + i * width, ok, bad) for i, (ok, bad) in enumerate(bars)],
    )


def series_points(minutes: Sequence[MinuteCounts], since: float, step: int,
                  bars: int, queue: str | None) -> list[SeriesPoint]:
    """``bars`` bars of ``step`` seconds from ``since``, from the minute rollups."""
    numbers = [[0, 0, 0, 0.0] for _ in range(bars)]
    for row in minutes:
        if queue is not None and row.queue != queue:
            continue
        index = int((row.minute - since) // step)
        if 0 <= index < bars:
            bar = numbers[index]
            bar[0] += row.completed
            bar[1] += row.failed
            bar[2] += row.waited
            bar[3] += row.wait_total
    return [SeriesPoint(since + i * step, int(ok), int(bad), total / waited if waited else None)
            for i, (ok, bad, waited, total) in enumerate(numbers)]
