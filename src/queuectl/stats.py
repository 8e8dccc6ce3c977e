"""Numbers about finished runs: counts, success rate, throughput, percentiles, histograms.

Pure computations, no I/O: storage yields ``FinishedRun`` values, and the functions here fold
them in one pass, so a window of a million runs costs two arrays of floats, not a million
objects. The CLI's ``stats``, ``status --watch``, the dashboard and ``/metrics`` all use them.

Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value
at rank ``ceil(p / 100 * n)``. For run times ``[1, 2, 3, 4]`` (seconds), p50 is 2 (rank 2),
p95 is 4 (rank ceil(3.8) = 4) and max is 4: every reported value is one that was measured.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .units import format_timestamp

# Upper bounds, in seconds, of the /metrics histograms of run time and wait time. Shell jobs
# range from milliseconds to hours, so the buckets are spread over that range.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                    900.0, 3600.0)


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """One finished run of a job, with what statistics need from its job (not its output).

    ``ended_dead`` is true for the run that used up the job's last retry while the job is
    still in the dead letter queue. ``interrupted`` is true for a run killed by a forced stop
    (``worker stop --now``): its job went back as it was before the claim, so the run is not
    an attempt, and the numbers here leave it out (it neither failed nor completed).
    """

    job_id: str
    number: int
    queue: str
    enqueued_at: float
    started_at: float
    finished_at: float
    succeeded: bool
    ended_dead: bool = False
    interrupted: bool = False

    @property
    def run_time(self) -> float:
        return max(0.0, self.finished_at - self.started_at)

    @property
    def wait_time(self) -> float | None:
        """Enqueue to start, for a job's first run only: later runs wait for their backoff
        on purpose, and that wait says nothing about how busy the workers are."""
        if self.number != 1:
            return None
        return max(0.0, self.started_at - self.enqueued_at)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of non-empty, sorted values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 95)
    4.0
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Spread:
    """p50, p95 and max of some durations, in seconds."""

    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 95), ordered[-1])

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "p50": self.p50, "p95": self.p95, "max": self.max}


@dataclass(frozen=True)
class Summary:
    """What happened in one queue (or in all, ``queue is None``) during a window.

    ``completed`` and ``failed`` count runs (a job that failed twice and then succeeded adds
    2 failed and 1 completed); ``dead`` counts jobs that ran out of retries in the window.
    ``throughput`` is completed runs per second over the window.
    """

    queue: str | None
    seconds: float
    completed: int
    failed: int
    dead: int
    run_time: Spread | None
    wait_time: Spread | None

    @property
    def success_rate(self) -> float | None:
        finished = self.completed + self.failed
        return self.completed / finished if finished else None

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "completed": self.completed,
            "failed": self.failed,
            "dead": self.dead,
            "success_rate": self.success_rate,
            "throughput_per_second": self.throughput,
            "run_time": self.run_time.to_dict() if self.run_time else None,
            "wait_time": self.wait_time.to_dict() if self.wait_time else None,
        }


@dataclass(frozen=True)
class Bucket:
    """Runs that finished in ``[start, start + step)``: one bar of a throughput chart."""

    start: float
    completed: int
    failed: int


@dataclass(frozen=True)
class Stats:
    since: float
    until: float
    total: Summary
    queues: list[Summary]
    series: list[Bucket] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": format_timestamp(self.since),
            "until": format_timestamp(self.until),
            "total": self.total.to_dict(),
            "queues": [summary.to_dict() for summary in self.queues],
        }


class _Tally:
    """Accumulates one queue's runs; durations go to compact float arrays."""

    def __init__(self) -> None:
        self.completed = self.failed = self.dead = 0
        self.run_times = array("d")
        self.wait_times = array("d")

    def add(self, run: FinishedRun) -> None:
        if run.succeeded:
            self.completed += 1
        else:
            self.failed += 1
        if run.ended_dead:
            self.dead += 1
        # run.run_time and run.wait_time, inlined: this runs once per run of the window.
        started = run.started_at
        took = run.finished_at - started
        self.run_times.append(took if took > 0.0 else 0.0)
        if run.number == 1:
            waited = started - run.enqueued_at
            self.wait_times.append(waited if waited > 0.0 else 0.0)

    @classmethod
    def combined(cls, tallies: Iterable[_Tally]) -> _Tally:
        total = cls()
        for tally in tallies:
            total.completed += tally.completed
            total.failed += tally.failed
            total.dead += tally.dead
            total.run_times.extend(tally.run_times)
            total.wait_times.extend(tally.wait_times)
        return total

    def summary(self, queue: str | None, seconds: float) -> Summary:
        return Summary(queue, seconds, self.completed, self.failed, self.dead,
                       Spread.of(self.run_times), Spread.of(self.wait_times))


def summarize(
    runs: Iterable[FinishedRun],
    since: float,
    until: float,
    *,
    queue: str | None = None,
    step: float | None = None,
) -> Stats:
    """Fold the runs that finished in ``[since, until]`` into totals, per queue and overall.

    With ``queue``, only that queue's runs count. With ``step``, ``series`` also holds one
    bucket per ``step`` seconds from ``since`` (the last one may be partial, and also holds
    runs that finished at ``until`` exactly).

    >>> run = FinishedRun("a", 1, "default", 0.0, 1.0, 3.0, succeeded=True)
    >>> s = summarize([run], since=0.0, until=60.0)
    >>> (s.total.completed, s.total.run_time.p50, s.total.wait_time.p50)
    (1, 2.0, 1.0)
    """
    seconds = max(0.0, until - since)
    per_queue: dict[str, _Tally] = {}
    width = step if step and step > 0 else 0.0
    bars = [[0, 0] for _ in range(math.ceil(seconds / width))] if width else []
    last_bar = len(bars) - 1
    for run in runs:  # the hot loop of a large window: no more work per run than needed
        if run.interrupted or (queue is not None and run.queue != queue):
            continue
        finished = run.finished_at
        if finished < since or finished > until:
            continue
        tally = per_queue.get(run.queue)
        if tally is None:
            tally = per_queue[run.queue] = _Tally()
        tally.add(run)
        if bars:
            bars[min(int((finished - since) // width), last_bar)][0 if run.succeeded else 1] += 1
    total = _Tally.combined(per_queue.values())
    series = [Bucket(since + i * width, ok, bad) for i, (ok, bad) in enumerate(bars)]
    return Stats(
        since, until, total.summary(None, seconds),
        [per_queue[name].summary(name, seconds) for name in sorted(per_queue)],
        series,
    )


class Histogram:
    """A Prometheus histogram: counts of observations at or under each upper bound.

    >>> h = Histogram((1.0, 10.0))
    >>> for seconds in (0.5, 2.0, 20.0):
    ...     h.observe(seconds)
    >>> h.cumulative()
    [(1.0, 1), (10.0, 2), (inf, 3)]
    """

    def __init__(self, bounds: Sequence[float] = DURATION_BUCKETS) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        running, result = 0, []
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            result.append((bound, running))
        return result

    def merged(self, other: Histogram) -> Histogram:
        result = Histogram(self.bounds)
        result.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        result.sum = self.sum + other.sum
        return result


@dataclass
class QueueTotals:
    """Counters of one queue since its first run: Prometheus counters only ever go up."""

    completed: int = 0
    failed: int = 0
    dead: int = 0
    run_time: Histogram = field(default_factory=Histogram)
    wait_time: Histogram = field(default_factory=Histogram)

    def add(self, run: FinishedRun) -> None:
        if run.interrupted:  # not an attempt: see FinishedRun
            return
        if run.succeeded:
            self.completed += 1
        else:
            self.failed += 1
        if run.ended_dead:
            self.dead += 1
        self.run_time.observe(run.run_time)
        wait = run.wait_time
        if wait is not None:
            self.wait_time.observe(wait)

    def merged(self, other: QueueTotals) -> QueueTotals:
        return QueueTotals(
            self.completed + other.completed, self.failed + other.failed,
            self.dead + other.dead, self.run_time.merged(other.run_time),
            self.wait_time.merged(other.wait_time),
        )


def add_runs(totals: dict[str, QueueTotals], runs: Iterable[FinishedRun]) -> None:
    """Add runs to per-queue totals, in place."""
    for run in runs:
        totals.setdefault(run.queue, QueueTotals()).add(run)


def merge_totals(a: dict[str, QueueTotals], b: dict[str, QueueTotals]) -> dict[str, QueueTotals]:
    return {name: a.get(name, QueueTotals()).merged(b.get(name, QueueTotals()))
            for name in sorted(a.keys() | b.keys())}
