"""A worker's batch of results summed in Python (storage/run_counts.py) counts exactly what
SQLite's triggers count for the same results a row at a time: the same jobs per queue and
state, runs per minute, and histograms per hour, whatever the times, states and errors."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queuectl import JobState, Queue
from queuectl.clock import FakeClock
from queuectl.models import Outcome
from queuectl.storage.base import INTERRUPTED
from queuectl.storage.run_counts import DURATION_BOUNDS, WORTH_SUMMING, countable

START = 1_750_000_000.0

_run = st.fixed_dictionaries({
    "gap": st.floats(0, 7200),  # from the claim before to this one's batch
    "took": st.floats(-5, 5000),  # a clock that stepped back makes it negative
    "state": st.sampled_from([JobState.COMPLETED, JobState.FAILED, JobState.DEAD,
                              JobState.CANCELED]),
    "exit_code": st.one_of(st.none(), st.integers(0, 255)),
    "error": st.sampled_from([None, "exit code 3", INTERRUPTED]),
    "started_late": st.one_of(st.none(), st.floats(-100, 100)),  # a run held ahead
})


def _counted(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
                for table in ("job_counts", "run_minutes", "run_hours")}


def _play(db: Path, queues: list[str], runs: list[dict[str, Any]], batch: int,
          summed: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Enqueue a job per queue name, then claim ``batch`` at a time and record each with
    the next run of ``runs``; a failed job comes back for another run."""
    with Queue(db, clock=FakeClock(START), environ={}) as queue:
        for name in queues:
            queue.enqueue("true", queue=name)
        storage, now, pending = queue.storage, START, list(runs)
        while pending:
            now += pending[0]["gap"]
            claimed, _ = storage.record_and_claim("w-1", [], batch, now, now + 30)
            if not claimed:
                break
            outcomes = []
            for job, run in zip(claimed, pending, strict=False):
                finished = now + run["took"]
                started = None if run["started_late"] is None else now + run["started_late"]
                outcomes.append(Outcome(
                    job.id, job.runs, run["state"], finished,
                    run_at=finished if run["state"] is JobState.FAILED else None,
                    exit_code=run["exit_code"], error=run["error"], started_at=started,
                    job=job if summed else None))
            del pending[:len(outcomes)]
            # Else both would go the triggers' way (as a short batch does: WORTH_SUMMING).
            assert countable(outcomes) is (summed and len(outcomes) >= WORTH_SUMMING)
            storage.record_and_claim("w-1", outcomes, 0, now, now + 30)
    return _counted(db)


def _same(summed: list[tuple[Any, ...]], triggered: list[tuple[Any, ...]]) -> bool:
    """Equal rows; sums of seconds may differ in their last bits (added in another order)."""
    return len(summed) == len(triggered) and all(
        len(a) == len(b) and all(x == y or (isinstance(x, float) and math.isclose(x, y))
                                 for x, y in zip(a, b, strict=True))
        for a, b in zip(summed, triggered, strict=True))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queues=st.lists(st.sampled_from(["default", "a", "b"]), min_size=1, max_size=12),
       runs=st.lists(_run, min_size=1, max_size=20),
       batch=st.integers(WORTH_SUMMING - 1, WORTH_SUMMING + 3))
def test_a_batch_summed_counts_as_the_triggers_count_its_rows(
        tmp_path_factory: pytest.TempPathFactory, queues: list[str],
        runs: list[dict[str, Any]], batch: int) -> None:
    summed = _play(tmp_path_factory.mktemp("summed") / "q.db", queues, runs, batch, True)
    triggered = _play(tmp_path_factory.mktemp("triggered") / "q.db", queues, runs, batch,
                      False)
    for table in summed:
        assert _same(summed[table], triggered[table]), table


def test_the_bounds_are_the_tables(tmp_path: Path) -> None:
    Queue(tmp_path / "q.db").close()
    with sqlite3.connect(tmp_path / "q.db") as conn:
        stored = [upper for (upper,) in conn.execute(
            "SELECT upper FROM duration_bounds ORDER BY upper")]
    assert tuple(stored) == DURATION_BOUNDS


def test_a_batch_of_a_rescue_or_an_older_caller_is_counted_by_the_triggers(
        tmp_path: Path) -> None:
    """Outcomes without their job (a caller of record_and_claim that built them itself) are
    counted as before: by the triggers, a row at a time."""
    triggered = _play(tmp_path / "q.db", ["a"], [{
        "gap": 1.0, "took": 2.0, "state": JobState.COMPLETED, "exit_code": 0, "error": None,
        "started_late": None}], 1, False)
    assert triggered["job_counts"] == [("a", "completed", 0, 1), ("a", "pending", 0, 0),
                                       ("a", "processing", 0, 0)]
    assert [row[:4] for row in triggered["run_minutes"]] == [
        (int((START + 1) / 60) * 60, "a", 0, 1)]


def test_a_batch_with_a_time_that_is_text_is_counted_by_the_triggers(tmp_path: Path) -> None:
    """A job row edited by hand (created_at holding text) is no reason to fail the batch: the
    triggers count it, as they count any row."""
    with Queue(tmp_path / "q.db", clock=FakeClock(START), environ={}) as queue:
        for _ in range(WORTH_SUMMING):
            queue.enqueue("true")
        claimed, _ = queue.storage.record_and_claim("w-1", [], WORTH_SUMMING, START, START + 30)
        odd = replace(claimed[0], created_at="yesterday")  # type: ignore[arg-type]
        outcomes = [Outcome(job.id, job.runs, JobState.COMPLETED, START + 1, exit_code=0,
                            job=job) for job in [odd, *claimed[1:]]]
        assert not countable(outcomes)
        _, refused = queue.storage.record_and_claim("w-1", outcomes, 0, START + 1, START + 31)
        assert refused == []
    assert _counted(tmp_path / "q.db")["job_counts"] == [
        ("default", "completed", 0, WORTH_SUMMING), ("default", "pending", 0, 0),
        ("default", "processing", 0, 0)]
