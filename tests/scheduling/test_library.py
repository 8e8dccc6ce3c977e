"""Scheduling through the library with real workers: priority order, delays, dependencies,
unique keys, per-job retry policy, the pending breakdown and purge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import wait_until

from queuectl import JobState, Queue
from queuectl.backoff import state_after_failure
from queuectl.clock import FakeClock
from queuectl.errors import InvalidInput
from queuectl.models import Job


@pytest.fixture
def live(db_path: Path) -> Iterator[Queue]:
    """A queue on the real clock, for workers that run jobs."""
    with Queue(db_path, environ={}) as q:
        yield q


def logged(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_priority_order_with_a_single_slot(live: Queue, tmp_path: Path) -> None:
    log = tmp_path / "order.log"
    for job_id, priority in [("low", -5), ("mid-1", 0), ("high", 10), ("mid-2", 0), ("top", 99)]:
        live.enqueue(f"echo {job_id} >> {log}", id=job_id, priority=priority)
    live.worker(slots=1).run(burst=True)
    assert logged(log) == ["top", "high", "mid-1", "mid-2", "low"]  # FIFO within a priority


def test_a_delay_is_honoured_not_before_and_not_much_after(live: Queue) -> None:
    job = live.enqueue("true", delay="1s")
    assert job.run_at >= job.created_at + 1.0
    worker = live.worker(slots=1)
    # Not burst: a burst worker does not wait for delayed jobs (only for retries).
    serving = threading.Thread(target=worker.run)
    serving.start()
    try:
        wait_until(lambda: live.get(job.id).state is JobState.COMPLETED, timeout=10,
                   message="the delayed job done")
    finally:
        worker.request_stop()
        serving.join(30)
    [attempt] = live.attempts(job.id)
    assert job.run_at <= attempt.started_at < job.run_at + 1.0
    assert live.get(job.id).state is JobState.COMPLETED


def test_a_chain_runs_in_order(live: Queue, tmp_path: Path) -> None:
    log = tmp_path / "chain.log"

    def step(name: str) -> str:
        return f"echo start-{name} >> {log}; sleep 0.05; echo end-{name} >> {log}"

    with pytest.raises(InvalidInput, match="no job with id 'b'"):
        live.enqueue(step("c"), id="c", depends_on=["b"])  # b does not exist yet
    live.enqueue(step("a"), id="a")
    live.enqueue(step("b"), id="b", depends_on=["a"])
    live.enqueue(step("c"), id="c", depends_on=["b"])
    live.worker(slots=3).run(burst=True)
    assert logged(log) == ["start-a", "end-a", "start-b", "end-b", "start-c", "end-c"]


def test_a_diamond_runs_in_order(live: Queue, tmp_path: Path) -> None:
    log = tmp_path / "diamond.log"

    def step(name: str) -> str:
        return f"echo start-{name} >> {log}; sleep 0.1; echo end-{name} >> {log}"

    live.enqueue(step("a"), id="a")
    live.enqueue(step("b"), id="b", depends_on=["a"])
    live.enqueue(step("c"), id="c", depends_on=["a"])
    live.enqueue(step("d"), id="d", depends_on=["b", "c"])
    live.worker(slots=4).run(burst=True)
    events = logged(log)
    position = {event: number for number, event in enumerate(events)}
    assert len(events) == 8
    assert position["end-a"] < min(position["start-b"], position["start-c"])
    assert position["start-d"] > max(position["end-b"], position["end-c"])


def test_a_dead_dependency_marks_its_dependents_dead(queue: Queue, clock: FakeClock) -> None:
    queue.enqueue("exit 3", id="a", max_retries=0)
    queue.enqueue("true", id="b", depends_on=["a"])
    queue.enqueue("true", id="c", depends_on=["b"])
    queue.enqueue("true", id="other")
    with queue.worker(slots=2) as worker:
        while worker.run_once():
            pass
    states = {job.id: (job.state, job.last_error) for job in queue.jobs()}
    assert states == {
        "a": (JobState.DEAD, "exit code 3"),
        "b": (JobState.DEAD, "dependency a dead"),
        "c": (JobState.DEAD, "dependency b dead"),
        "other": (JobState.COMPLETED, None),
    }
    # Retried before its dependency is fixed, a dependent dies again at once...
    assert [(job.id, job.state) for job in queue.retry(["c"])] == [("c", JobState.DEAD)]
    # ...and retried with it (in any order), all of them wait again.
    retried = queue.retry(["c", "b", "a"])
    assert {job.id: job.state for job in retried} == dict.fromkeys("abc", JobState.PENDING)
    # A new job that depends on a dead one is dead from the start, and says why.
    queue.cancel(["a"])
    assert {job.id: job.state for job in queue.jobs()} == {
        "a": JobState.CANCELED, "b": JobState.DEAD, "c": JobState.DEAD,
        "other": JobState.COMPLETED}
    late = queue.enqueue("true", id="late", depends_on=["a", "other"])
    assert (late.state, late.last_error) == (JobState.DEAD, "dependency a dead")


def test_a_dependency_on_a_completed_job_is_met_already(queue: Queue) -> None:
    queue.enqueue("true", id="a")
    with queue.worker() as worker:
        worker.run_once()
    job = queue.enqueue("true", id="b", depends_on=["a"])
    assert (job.state, job.waiting_on) == (JobState.PENDING, 0)


@pytest.mark.parametrize(("fields", "word"), [
    ({"id": "x", "depends_on": ["x"]}, "itself"),
    ({"depends_on": "a"}, "list"),
    ({"depends_on": [1]}, "job id"),
    ({"priority": "high"}, "whole number"),
    ({"priority": 1.5}, "whole number"),
    ({"priority": True}, "whole number"),
    ({"priority": 2**31}, "between"),
    ({"delay": "soon"}, "duration"),
    ({"delay": "-5s"}, "duration"),
    ({"delay": "5m", "run_at": "2026-01-01T00:00:00Z"}, "not both"),
    ({"run_at": "tomorrow"}, "ISO 8601"),
    ({"queue": "bad name"}, "queue"),
    ({"queue": ""}, "queue"),
    ({"tags": "nightly"}, "list"),
    ({"tags": ["has space"]}, "tag"),
    ({"tags": ["x" * 65]}, "tag"),
    ({"unique_key": ""}, "unique_key"),
    ({"backoff_base": 0.5}, "between 1 and 1000"),
    ({"backoff_max": "0s"}, "more than zero"),
    ({"jitter": 2}, "between 0 and 1"),
    ({"jitter": "a bit"}, "number"),
])
def test_bad_fields_are_refused_and_nothing_stored(queue: Queue, fields: dict[str, object],
                                                  word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        queue.enqueue_many([{"command": "true", **fields}])
    assert queue.jobs() == []


def test_a_unique_key_admits_one_live_job_and_is_freed_when_it_ends(queue: Queue) -> None:
    first = queue.enqueue("true", id="first", unique_key="nightly")
    again = queue.enqueue("true", id="second", unique_key="nightly")
    assert (again.id, again.unique_conflict, first.unique_conflict) == ("first", True, False)
    with queue.worker() as worker:
        worker.run_once()  # first completes: the key is free
    third = queue.enqueue("true", id="third", unique_key="nightly")
    assert (third.id, third.unique_conflict) == ("third", False)
    assert sorted(job.id for job in queue.jobs()) == ["first", "third"]


def test_a_jobs_own_retry_policy_overrides_the_configured_one(queue: Queue,
                                                              clock: FakeClock) -> None:
    queue.enqueue("exit 1", id="own", backoff_base=3, backoff_max="5s", max_retries=5)
    queue.enqueue("exit 1", id="configured", max_retries=5)
    waits = []
    with queue.worker(slots=2) as worker:
        for _ in range(3):
            start = clock.now()
            worker.run_once()
            waits.append({job.id: job.run_at - start for job in queue.jobs()})
            clock.advance(10)
    assert [wait["own"] for wait in waits] == [3.0, 5.0, 5.0]  # 3, then capped: 9 > 5
    assert [wait["configured"] for wait in waits] == [2.0, 4.0, 8.0]


def test_jitter_spreads_a_retry_either_way_by_its_fraction() -> None:
    job = Job("j", "false", JobState.PROCESSING, attempts=3, max_retries=5, created_at=0,
              updated_at=0, run_at=0)
    assert state_after_failure(job, 100.0, 2.0, 3600.0) == (JobState.FAILED, 108.0)
    low = state_after_failure(job, 100.0, 2.0, 3600.0, jitter=0.25, rand=0.0)
    high = state_after_failure(job, 100.0, 2.0, 3600.0, jitter=0.25, rand=1.0)
    assert (low, high) == ((JobState.FAILED, 106.0), (JobState.FAILED, 110.0))
    draws = {state_after_failure(job, 100.0, 2.0, 3600.0, jitter=0.25)[1] for _ in range(50)}
    assert all(106.0 <= at <= 110.0 for at in draws) and len(draws) > 1


def test_pending_jobs_by_what_they_wait_for(queue: Queue) -> None:
    queue.enqueue("true", id="now")
    queue.enqueue("true", id="later", delay="1h")
    queue.enqueue("true", id="after", depends_on=["now"])
    assert queue.pending_breakdown() == {"ready": 1, "scheduled": 1, "blocked": 1}


def test_purge_removes_rows_history_and_output(queue: Queue, clock: FakeClock,
                                               db_path: Path) -> None:
    import sqlite3

    queue.config_set("keep_completed", "off")  # only the purge deletes here
    queue.enqueue("echo some output", id="done", tags=["t"])
    queue.enqueue("true", id="after", depends_on=["done"])
    with queue.worker(slots=2) as worker:
        while worker.run_once():
            pass
    queue.enqueue("true", id="waiting", delay="30d")
    clock.advance(8 * 86400)
    queue.enqueue("echo young", id="young")
    with queue.worker() as worker:
        worker.run_once()
    with pytest.raises(InvalidInput, match="not pending"):
        queue.purge(["pending"])
    assert queue.purge(["completed"], older_than="7d") == 2
    assert sorted(job.id for job in queue.jobs()) == ["waiting", "young"]
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT DISTINCT job_id FROM attempts").fetchall() == [("young",)]
        for table in ("job_tags", "job_dependencies", "output_chunks"):
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
    finally:
        db.close()
    assert queue.purge(["completed", "dead", "canceled"]) == 1  # no age: every finished job
    assert [job.id for job in queue.jobs()] == ["waiting"]


def test_workers_serve_only_their_queues(queue: Queue) -> None:
    queue.enqueue("true", id="v", queue="video")
    queue.enqueue("true", id="d")
    with queue.worker(queues=["video"]) as worker:
        while worker.run_once():
            pass
    assert {job.id: job.state for job in queue.jobs()} == {
        "v": JobState.COMPLETED, "d": JobState.PENDING}
    with pytest.raises(InvalidInput, match="--queue"):
        queue.worker(queues=["no good"])


def test_pause_resume_and_limit_through_the_library(queue: Queue) -> None:
    for number in range(4):
        queue.enqueue("true", id=f"v{number}", queue="video")
    queue.queues.pause("video")
    with queue.worker(slots=4) as worker:
        assert worker.run_once() == 0
        queue.queues.resume("video")
        assert queue.queues.limit("video", "2") == 2
        assert worker.run_once() == 2  # four free slots, a limit of two
        assert queue.queues.limit("video", "none") is None
        assert worker.run_once() == 2
    [info] = queue.queues.list()
    assert (info.name, info.paused, info.limit, info.counts) == (
        "video", False, None, {JobState.COMPLETED: 4})
    for bad in ("-1", "many", "1.5"):
        with pytest.raises(InvalidInput, match="limit"):
            queue.queues.limit("video", bad)
