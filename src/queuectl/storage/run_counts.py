"""A worker's batch of results counted at once, where the database counts a row at a time.

SQLite's triggers (migrations 0009 and 0010) keep the counts of jobs per queue and state and
the rollups of finished runs (``rollups.py``) in the transaction that changes a job: three
upserts for each finished run and two for each job that moves on, ~14 us and ~5 us of a
worker's ~70 us of database work for a short job. A worker's transaction that records a batch
of results instead holds the ``counting_deferred`` row (the triggers then leave its runs and
its jobs' moves alone) and adds what this module sums: one upsert per queue and minute, per
queue, hour and bucket, and per queue and state, for the whole batch. Whoever else changes a
job (a rescue, a cancel, the sqlite3 shell) is counted by the triggers as before.

The rules are the triggers' (0010's ``attempts_finished``, ``jobs_counted_update`` and
``jobs_died_running``), and ``tests/stats/test_run_counts.py`` holds the two to the same
results. PostgreSQL's triggers count a whole statement at once already: its store has no
statements for these sums, and they cost it nothing but the summing.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..rollups import KIND_COMPLETED, KIND_DEAD, KIND_FAILED, KIND_WAIT
from ..states import JobState
from .base import INTERRUPTED

if TYPE_CHECKING:
    from ..models import Outcome

# The bounds of run_hours' buckets, as the duration_bounds table of 0009 holds them: 1 ms to
# a week, each at most 25% above the one before, then infinity.
DURATION_BOUNDS = (
    0.001, 0.00125, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.0125,
    0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4,
    0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.5, 15.0, 20.0,
    25.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0, 125.0, 150.0, 200.0, 250.0, 300.0, 400.0,
    500.0, 600.0, 800.0, 900.0, 1000.0, 1250.0, 1500.0, 2000.0, 2500.0, 3000.0, 3600.0,
    4000.0, 5000.0, 6000.0, 8000.0, 10000.0, 12500.0, 15000.0, 20000.0, 25000.0, 30000.0,
    40000.0, 50000.0, 60000.0, 80000.0, 100000.0, 125000.0, 150000.0, 200000.0, 250000.0,
    300000.0, 400000.0, 500000.0, 600000.0, 604800.0, math.inf,
)
# Fewer results than this are left to the triggers: summing costs five statements a batch,
# more than the triggers cost one result (storage CPU per job with one result a transaction,
# bench/counter_cost.py: +7 us summed; with 40, -10 us).
WORTH_SUMMING = 4
# Times past this are counted by the triggers: SQLite's CAST to INTEGER saturates where
# Python's int() does not, and no clock of a worker reads them.
_LATEST = 1e15


@dataclass
class BatchCounts:
    """What one batch adds, as the rows of ``count_jobs_moved``, ``count_runs_per_minute`` and
    ``count_runs_per_hour``."""

    moves: list[dict[str, Any]] = field(default_factory=list)
    minutes: list[dict[str, Any]] = field(default_factory=list)
    hours: list[dict[str, Any]] = field(default_factory=list)


def countable(outcomes: Sequence[Outcome]) -> bool:
    """Whether the batch is worth summing, and every outcome carries the job it ends, at
    times the triggers count alike."""
    if len(outcomes) < WORTH_SUMMING:
        return False
    try:
        for outcome in outcomes:
            job = outcome.job
            if job is None:
                return False
            started = job.updated_at if outcome.started_at is None else outcome.started_at
            if not (-_LATEST < outcome.finished_at < _LATEST and -_LATEST < started < _LATEST
                    and -_LATEST < job.created_at < _LATEST):  # False for NaN too
                return False
    except TypeError:  # a time that is text (a row edited by hand): the triggers know best
        return False
    return True


def count(outcomes: Sequence[Outcome]) -> BatchCounts:
    """The counts of ``outcomes``, runs the database recorded (``countable`` ones).

    Written for speed, as it runs for every job a worker finishes: plain lists for the sums,
    no call per run but ``bisect``."""
    left: dict[str, int] = {}  # jobs that left 'processing', per queue
    moved: dict[tuple[str, JobState], int] = {}
    minutes: dict[tuple[int, str], list[Any]] = {}  # completed, failed, dead, waited, total
    hours: dict[tuple[int, str, int, float], list[Any]] = {}  # n, total, top
    bounds = DURATION_BOUNDS
    for outcome in outcomes:
        job = outcome.job
        assert job is not None  # see countable
        queue, state = job.queue, outcome.state
        left[queue] = left.get(queue, 0) + 1
        moved[queue, state] = moved.get((queue, state), 0) + 1
        dead = state is JobState.DEAD
        counted = outcome.error != INTERRUPTED  # else no attempt: see stats.FinishedRun
        if not (dead or counted):
            continue  # no row of its minute either, as the triggers add none
        finished = outcome.finished_at
        minute = minutes.get((int(finished / 60) * 60, queue))
        if minute is None:
            minute = minutes[int(finished / 60) * 60, queue] = [0, 0, 0, 0, 0.0]
        hour = int(finished / 3600) * 3600
        if dead:  # a death in its minute and hour (its job's updated_at)
            minute[2] += 1
            _add(hours, (hour, queue, KIND_DEAD, 0.0), 0.0)
        if not counted:
            continue
        started = job.updated_at if outcome.started_at is None else outcome.started_at
        took = max(finished - started, 0.0)
        if outcome.exit_code == 0 and outcome.error is None:
            minute[0] += 1
            _add(hours, (hour, queue, KIND_COMPLETED, bounds[bisect_left(bounds, took)]), took)
        else:
            minute[1] += 1
            _add(hours, (hour, queue, KIND_FAILED, bounds[bisect_left(bounds, took)]), took)
        if outcome.attempt == 1:  # a first run: its wait from enqueue to start
            waited = max(started - job.created_at, 0.0)
            minute[3] += 1
            minute[4] += waited
            _add(hours, (hour, queue, KIND_WAIT, bounds[bisect_left(bounds, waited)]), waited)
    moves = [{"queue": queue, "state": "processing", "n": -n} for queue, n in left.items()]
    moves += [{"queue": queue, "state": state.value, "n": n}
              for (queue, state), n in moved.items()]
    return BatchCounts(
        moves=moves,
        minutes=[{"minute": minute, "queue": queue, "completed": m[0], "failed": m[1],
                  "dead": m[2], "waited": m[3], "wait_total": m[4]}
                 for (minute, queue), m in minutes.items()],
        hours=[{"hour": hour, "queue": queue, "kind": kind, "upper": upper, "n": h[0],
                "total": h[1], "top": h[2]}
               for (hour, queue, kind, upper), h in hours.items()],
    )


def _add(hours: dict[tuple[int, str, int, float], list[Any]],
         key: tuple[int, str, int, float], value: float) -> None:
    sums = hours.get(key)
    if sums is None:
        hours[key] = [1, value, value]
    else:
        sums[0] += 1
        sums[1] += value
        sums[2] = max(sums[2], value)
