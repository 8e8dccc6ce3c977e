"""How ``Queue.stats`` and ``Queue.stats_series`` read a window: the runs themselves while
they are few, the database's rollups past ``rollups.EXACT_RUNS`` (see ``rollups``)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import chain
from typing import TYPE_CHECKING

from .rollups import (
    EXACT_RUNS,
    HOUR,
    KIND_COMPLETED,
    KIND_DEAD,
    KIND_FAILED,
    KIND_WAIT,
    MINUTE,
    MINUTE_WINDOW,
    MinuteCounts,
    SeriesPoint,
    ceil_to,
    floor_to,
    series_points,
    summarize_rollups,
)
from .stats import FinishedRun, QueueTotals, Stats, summarize

if TYPE_CHECKING:
    from .storage.store import Store

Runs = Callable[[float, float], Iterator[FinishedRun]]  # finished in [since, until)


def window_stats(store: Store, runs: Runs, since: float, until: float, *,
                 queue: str | None, step: float | None) -> Stats:
    """Stats of the runs that finished in ``[since, until]``: whole hours from the hourly
    rollups (unless a series of bars is asked for), whole minutes from the minute rollups,
    the seconds at both ends from the runs themselves."""
    after_until = math.nextafter(until, math.inf)
    histograms = store.run_histograms(floor_to(since, HOUR), floor_to(until, HOUR) + HOUR)
    # The hours the window touches hold at least its runs: few enough, and they are folded.
    most = sum(row.count for row in histograms if row.kind in (KIND_COMPLETED, KIND_FAILED)
               and (queue is None or row.queue == queue))
    first_whole, last_whole = ceil_to(since, MINUTE), floor_to(until, MINUTE)
    if most <= EXACT_RUNS or first_whole >= last_whole:
        return summarize(runs(since, after_until), since, until, queue=queue, step=step)
    if step and step > 0:  # bars summed in SQL, a whole minute in the bar its start is in
        edges = chain(runs(since, first_whole), runs(last_whole, after_until))
        inner = _bars(store, first_whole, last_whole, since, step, until)
        return summarize_rollups(inner, histograms, edges, since, until, queue=queue,
                                 step=step)
    # Totals only: the partial minutes at both ends are counted in SQL (the last one may hold
    # tens of thousands of runs just ended), whole minutes and hours come from the rollups.
    inner = [*store.run_counts(since, first_whole), *store.run_counts(last_whole, after_until)]
    first_hour, last_hour = ceil_to(first_whole, HOUR), floor_to(last_whole, HOUR)
    whole = until - since + 1  # one bar: totals only
    if first_hour < last_hour:
        # Before the horizon minute rows may be pruned: the first part-hour is left out
        # alike whether they are yet or not.
        kept_from = max(first_whole, _minute_horizon(until))
        inner += [*store.run_minutes(kept_from, first_hour, since, whole),
                  *store.run_hour_counts(first_hour, last_hour),
                  *store.run_minutes(last_hour, last_whole, since, whole)]
    else:
        inner += store.run_minutes(first_whole, last_whole, since, whole)
    return summarize_rollups(inner, histograms, (), since, until, queue=queue)


def window_series(store: Store, window: float, until: float, *, queue: str | None,
                  step: int) -> list[SeriesPoint]:
    """Bars of ``step`` seconds (a whole number of minutes) covering the last ``window``
    seconds, the last one ending with the minute ``until`` falls in."""
    end = floor_to(until, MINUTE) + MINUTE
    bars = max(1, math.ceil(window / step))
    start = end - bars * step
    minutes = _bars(store, start, end, start, step, until)
    return series_points(minutes, start, step, bars, queue)


def _bars(store: Store, since: int, until: int, origin: float, step: float,
          now: float) -> list[MinuteCounts]:
    """``store.run_minutes`` over the last ``MINUTE_WINDOW`` before ``now``, and whole hours
    from the hourly rollups before that (minute rows that old are pruned: see rollups)."""
    horizon = _minute_horizon(now)
    if since >= horizon:
        return store.run_minutes(since, until, origin, step)
    return [*store.run_hour_bars(ceil_to(since, HOUR), min(horizon, until), origin, step),
            *store.run_minutes(max(since, horizon), until, origin, step)]


def run_totals(store: Store) -> dict[str, QueueTotals]:
    """Counters and histograms of every run so far, per queue (``/metrics``), from the hourly
    rollups: exact, for their bounds include every bound of ``stats.DURATION_BUCKETS``."""
    totals: dict[str, QueueTotals] = {}
    for row in store.run_histograms(0, 2**62):
        total = totals.setdefault(row.queue, QueueTotals())
        if row.kind == KIND_DEAD:
            total.dead += row.count
            continue
        if row.kind == KIND_COMPLETED:
            total.completed += row.count
        elif row.kind == KIND_FAILED:
            total.failed += row.count
        histogram = total.wait_time if row.kind == KIND_WAIT else total.run_time
        histogram.counts[bisect_left(histogram.bounds, row.upper)] += row.count
        histogram.sum += row.total
    return dict(sorted(totals.items()))


def _minute_horizon(now: float) -> int:
    """Where the minute rollups a read at ``now`` may use begin: an hour's start."""
    return floor_to(now - MINUTE_WINDOW, HOUR)
