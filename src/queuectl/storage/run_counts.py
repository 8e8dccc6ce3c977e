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
KIND_COMPLETED, KIND_FAILED, KIND_WAIT, KIND_DEAD = 0, 1, 2, 3  # as rollups.py reads them
# Times past this are counted by the triggers: SQLite's CAST to INTEGER saturates where
# Python's int() does not, and no clock of a worker reads them.
_LATEST = 1e15


@dataclass
class _Hour:
    n: int = 0
    total: float = 0.0
    top: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        self.top = max(self.top, value)


@dataclass
class _Minute:
    completed: int = 0
    failed: int = 0
    dead: int = 0
    waited: int = 0
    wait_total: float = 0.0


@dataclass
class BatchCounts:
    """What one batch adds, as the rows of ``count_jobs_moved``, ``count_runs_per_minute`` and
    ``count_runs_per_hour``."""

    moves: list[dict[str, Any]] = field(default_factory=list)
    minutes: list[dict[str, Any]] = field(default_factory=list)
    hours: list[dict[str, Any]] = field(default_factory=list)


def countable(outcomes: Sequence[Outcome]) -> bool:
    """Whether every outcome carries the job it ends, at times the triggers count alike."""
    return all(outcome.job is not None and _plain_time(outcome.finished_at)
               and _plain_time(_started(outcome)) and _plain_time(outcome.job.created_at)
               for outcome in outcomes)


def count(outcomes: Sequence[Outcome]) -> BatchCounts:
    """The counts of ``outcomes``, runs the database recorded (``countable`` ones)."""
    moves: dict[tuple[str, str], int] = {}
    minutes: dict[tuple[int, str], _Minute] = {}
    hours: dict[tuple[int, str, int, float], _Hour] = {}
    for outcome in outcomes:
        job = outcome.job
        assert job is not None  # see countable
        queue, state = job.queue, outcome.state.value
        moves[queue, "processing"] = moves.get((queue, "processing"), 0) - 1
        moves[queue, state] = moves.get((queue, state), 0) + 1
        dead = outcome.state is JobState.DEAD
        counted = outcome.error != INTERRUPTED  # else no attempt: see stats.FinishedRun
        if not (dead or counted):
            continue  # no row of its minute either, as the triggers add none
        finished = outcome.finished_at
        minute = minutes.setdefault((int(finished / 60) * 60, queue), _Minute())
        hour = int(finished / 3600) * 3600
        if dead:  # a death in its minute and hour (its job's updated_at)
            minute.dead += 1
            hours.setdefault((hour, queue, KIND_DEAD, 0.0), _Hour()).add(0.0)
        if not counted:
            continue
        started = _started(outcome)
        failed = not (outcome.exit_code == 0 and outcome.error is None)
        took = max(finished - started, 0.0)
        if failed:
            minute.failed += 1
        else:
            minute.completed += 1
        kind = KIND_FAILED if failed else KIND_COMPLETED
        hours.setdefault((hour, queue, kind, _bucket(took)), _Hour()).add(took)
        if outcome.attempt == 1:  # a first run: its wait from enqueue to start
            waited = max(started - job.created_at, 0.0)
            minute.waited += 1
            minute.wait_total += waited
            hours.setdefault((hour, queue, KIND_WAIT, _bucket(waited)), _Hour()).add(waited)
    return BatchCounts(
        moves=[{"queue": queue, "state": state, "n": n}
               for (queue, state), n in moves.items() if n],
        minutes=[{"minute": minute, "queue": queue, "completed": m.completed,
                  "failed": m.failed, "dead": m.dead, "waited": m.waited,
                  "wait_total": m.wait_total} for (minute, queue), m in minutes.items()],
        hours=[{"hour": hour, "queue": queue, "kind": kind, "upper": upper, "n": h.n,
                "total": h.total, "top": h.top}
               for (hour, queue, kind, upper), h in hours.items()],
    )


def _started(outcome: Outcome) -> float:
    """When the run's attempt started: the outcome's time, else the claim's (the attempt is
    opened with the job's updated_at, and the worker's job is the row its claim returned)."""
    if outcome.started_at is not None:
        return outcome.started_at
    return outcome.job.updated_at if outcome.job is not None else math.nan


def _plain_time(value: float) -> bool:
    return -_LATEST < value < _LATEST  # False for NaN too


def _bucket(value: float) -> float:
    """The least bound at or above ``value`` (duration_bounds' ``min(upper) WHERE upper >=``)."""
    return DURATION_BOUNDS[bisect_left(DURATION_BOUNDS, value)]
