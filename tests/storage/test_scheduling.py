"""Storage contract: priorities, delays, named queues (pause, limit), dependencies, unique
keys, tags, recurring-schedule ticks and retention."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from queuectl.errors import InvalidInput, InvalidTransition
from queuectl.models import Job, JobState, NewJob, Outcome
from queuectl.recurring import Schedule
from queuectl.storage import Storage

from .conftest import stored

T0 = 1_767_225_600.0


def _claim(storage: Storage, limit: int, now: float = T0, worker: str = "w",
           queues: list[str] | None = None) -> list[str]:
    claimed, _ = storage.record_and_claim(worker, [], limit, now, now + 30, queues)
    return [job.id for job in claimed]


def _finish(storage: Storage, job_id: str, state: JobState, now: float = T0,
            worker: str = "w") -> None:
    job = storage.get(job_id)
    assert job is not None and job.state is JobState.PROCESSING, job
    outcome = Outcome(job_id, job.runs, state, now, exit_code=0 if state is
                      JobState.COMPLETED else 1)
    assert storage.record_and_claim(worker, [outcome], 0, now, now) == ([], [])


def _state(storage: Storage, job_id: str) -> JobState:
    job = storage.get(job_id)
    assert job is not None and isinstance(job.state, JobState)
    return job.state


def test_priority_first_then_time(storage: Storage) -> None:
    storage.enqueue([NewJob("low", "x", 0), NewJob("high", "x", 0, priority=5),
                     NewJob("later", "x", 0, priority=9, delay=60)], T0)
    assert _claim(storage, 10) == ["high", "low"]
    assert _claim(storage, 10, T0 + 60) == ["later"]


def test_run_at_is_never_before_the_enqueue(storage: Storage) -> None:
    [past, future] = storage.enqueue([NewJob("past", "x", 0, run_at=T0 - 99),
                                      NewJob("future", "x", 0, run_at=T0 + 5)], T0)
    assert (past.run_at, future.run_at) == (T0, T0 + 5)
    assert storage.pending_breakdown(T0) == {"pending": 2, "scheduled": 1, "blocked": 0}


def test_workers_serve_their_queues_and_paused_queues_wait(storage: Storage) -> None:
    storage.enqueue([NewJob("mail", "x", 0, queue="mail"), NewJob("img", "x", 0, queue="img"),
                     NewJob("plain", "x", 0)], T0)
    storage.set_queue_paused("img", True)
    assert _claim(storage, 10, queues=["img", "mail"]) == ["mail"]
    assert _claim(storage, 10) == ["plain"]
    storage.set_queue_paused("img", False)
    assert _claim(storage, 10) == ["img"]
    info = {q.name: q for q in storage.queues()}
    assert sorted(info) == ["default", "img", "mail"]
    assert info["img"].counts[JobState.PROCESSING] == 1 and not info["img"].paused


def test_a_queue_limit_holds_within_a_batch_and_across_calls(storage: Storage) -> None:
    storage.set_queue_limit("gpu", 2)
    storage.enqueue([NewJob(f"g{i}", "x", 0, queue="gpu") for i in range(4)]
                    + [NewJob("cpu", "x", 0)], T0)
    assert _claim(storage, 10) == ["g0", "g1", "cpu"]
    assert _claim(storage, 10) == []
    _finish(storage, "g0", JobState.COMPLETED)
    assert _claim(storage, 10) == ["g2"]
    [gpu] = [q for q in storage.queues() if q.name == "gpu"]
    assert gpu.limit == 2
    storage.set_queue_limit("gpu", None)
    assert _claim(storage, 10) == ["g3"]


def test_a_queue_limit_holds_for_concurrent_claimers(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    storage.set_queue_limit("one", 1)
    storage.enqueue([NewJob(f"j{i}", "x", 0, queue="one") for i in range(20)], T0)
    stores = [open_store() for _ in range(4)]
    taken: list[str] = []
    start = threading.Barrier(len(stores))

    def claimer(store: Storage, name: str) -> None:
        start.wait()
        for _ in range(5):
            taken.extend(_claim(store, 3, worker=name))

    threads = [threading.Thread(target=claimer, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(taken) == 1


def test_dependencies_hold_a_job_until_they_complete(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "x", 0), NewJob("b", "x", 0)], T0)
    [child] = storage.enqueue([NewJob("c", "x", 0, depends_on=("a", "b"))], T0)
    assert (child.waiting_on, child.depends_on) == (2, ("a", "b"))
    assert storage.pending_breakdown(T0) == {"pending": 3, "scheduled": 0, "blocked": 1}
    assert _claim(storage, 10) == ["a", "b"]
    _finish(storage, "a", JobState.COMPLETED)
    assert _claim(storage, 10) == []
    _finish(storage, "b", JobState.COMPLETED)
    assert _claim(storage, 10) == ["c"]


def test_a_dead_dependency_kills_its_dependents_down_the_chain(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "x", 0)], T0)
    storage.enqueue([NewJob("b", "x", 0, depends_on=("a",))], T0)
    storage.enqueue([NewJob("c", "x", 0, depends_on=("b",))], T0)
    _claim(storage, 1)
    _finish(storage, "a", JobState.DEAD)
    assert (_state(storage, "b"), _state(storage, "c")) == (JobState.DEAD, JobState.DEAD)
    assert stored(storage, "c").last_error == "dependency b dead"
    [late] = storage.enqueue([NewJob("d", "x", 0, depends_on=("a",))], T0)
    assert (late.state, late.last_error) == (JobState.DEAD, "dependency a dead")
    # retried while its dependency is still dead: it dies again at once
    [again] = storage.retry(["b"], T0 + 1, include_canceled=False)
    assert again.state is JobState.DEAD


def test_a_job_retried_after_its_unfinished_dependency_was_removed_dies_again(
    storage: Storage,
) -> None:
    # A dead dependent does not keep its dead dependency from being removed; retried then,
    # it waited for ever on a job that no longer exists ("Retried c: now pending").
    storage.enqueue([NewJob("a", "x", 0), NewJob("done", "x", 0)], T0)
    storage.enqueue([NewJob("c", "x", 0, depends_on=("a", "done"))], T0)
    storage.enqueue([NewJob("d", "x", 0, depends_on=("a",))], T0)
    assert _claim(storage, 2) == ["a", "done"]
    _finish(storage, "done", JobState.COMPLETED)
    _finish(storage, "a", JobState.DEAD)
    assert storage.remove(["a", "done"]) == ["a", "done"]
    [again] = storage.retry(["c"], T0 + 1, include_canceled=False)
    assert (again.state, again.last_error) == (JobState.DEAD, "dependency a removed")
    assert sorted(storage.retry_all_dead(T0 + 2)) == ["c", "d"]
    assert [stored(storage, j).last_error for j in ("c", "d")] == ["dependency a removed"] * 2
    assert storage.pending_breakdown(T0 + 2)["pending"] == 0


def test_a_retried_job_waits_only_on_dependencies_not_completed_yet(storage: Storage) -> None:
    # A dependency that completed and was then removed (purge, retention) is no reason to die.
    storage.enqueue([NewJob("done", "x", 0), NewJob("b", "x", 0)], T0)
    storage.enqueue([NewJob("c", "x", 0, depends_on=("done", "b"))], T0)
    assert _claim(storage, 2) == ["done", "b"]
    _finish(storage, "done", JobState.COMPLETED)
    _finish(storage, "b", JobState.DEAD)
    assert storage.remove(["done"]) == ["done"]
    assert [j.state for j in storage.retry(["b", "c"], T0 + 1, include_canceled=False)] == [
        JobState.PENDING, JobState.PENDING]
    assert _claim(storage, 10, T0 + 1) == ["b"]
    _finish(storage, "b", JobState.COMPLETED, T0 + 1)
    assert _claim(storage, 10, T0 + 1) == ["c"]


def test_an_unknown_dependency_is_refused_and_nothing_stored(storage: Storage) -> None:
    with pytest.raises(InvalidInput, match="nope"):
        storage.enqueue([NewJob("ok", "x", 0), NewJob("c", "x", 0, depends_on=("nope",))], T0)
    assert storage.get("ok") is None


def test_a_unique_key_admits_one_live_job(storage: Storage) -> None:
    [first] = storage.enqueue([NewJob("a", "x", 0, unique_key="nightly")], T0)
    [same] = storage.enqueue([NewJob("b", "x", 0, unique_key="nightly")], T0)
    assert (same.id, same.unique_conflict, first.unique_conflict) == ("a", True, False)
    assert storage.get("b") is None
    _claim(storage, 1)
    _finish(storage, "a", JobState.DEAD)
    [fresh] = storage.enqueue([NewJob("c", "x", 0, unique_key="nightly")], T0)
    assert (fresh.id, fresh.unique_conflict) == ("c", False)
    with pytest.raises(InvalidTransition, match="unique key 'nightly'"):
        storage.retry(["a"], T0, include_canceled=False)
    assert storage.retry_all_dead(T0) == []  # "a" stays dead while "c" lives


def test_tags_select_jobs_to_list_and_retry(storage: Storage) -> None:
    storage.enqueue([NewJob("t1", "x", 0, tags=("etl", "eu")), NewJob("t2", "x", 0),
                     NewJob("t3", "x", 0, tags=("etl",))], T0)
    assert [j.id for j in storage.list_jobs(None, 10, tag="etl")] == ["t3", "t1"]
    assert stored(storage, "t1").tags == ("etl", "eu")
    _claim(storage, 3)
    for job_id in ("t1", "t2", "t3"):
        _finish(storage, job_id, JobState.DEAD)
    assert sorted(storage.retry_all_dead(T0, tag="etl")) == ["t1", "t3"]
    assert _state(storage, "t2") is JobState.DEAD


def _schedule(storage: Storage) -> Schedule:
    every = Schedule("tick", {"command": "true"}, every=60.0, next_run_at=T0)
    assert storage.add_schedule(every, T0) is True
    assert storage.add_schedule(every, T0) is False
    return every


def test_schedules_are_stored_paused_and_removed(storage: Storage) -> None:
    _schedule(storage)
    due, next_at = storage.due_schedules(T0)
    assert ([s.name for s in due], next_at) == (["tick"], T0)
    assert storage.due_schedules(T0 - 1) == ([], T0)  # not due yet: when it will be
    assert storage.set_schedule_paused("tick", True, None) is True
    assert storage.due_schedules(T0) == ([], None)
    assert storage.set_schedule_paused("tick", False, T0 + 60) is True
    resumed = storage.get_schedule("tick")
    assert resumed is not None and resumed.next_run_at == T0 + 60
    assert storage.remove_schedule("tick") is True
    assert storage.schedules() == [] and storage.remove_schedule("tick") is False


def test_one_read_gives_the_due_schedules_and_the_next_tick(storage: Storage) -> None:
    for name, at in [("late", T0 - 5), ("now", T0), ("soon", T0 + 30), ("later", T0 + 90),
                     ("paused", T0 - 60)]:
        assert storage.add_schedule(Schedule(name, {"command": "true"}, every=60.0,
                                             next_run_at=at), T0 - 100) is True
    assert storage.set_schedule_paused("paused", True, None) is True
    due, next_at = storage.due_schedules(T0)
    assert ([s.name for s in due], next_at) == (["late", "now"], T0 - 5)
    assert all(isinstance(s, Schedule) and not s.paused for s in due)
    due, next_at = storage.due_schedules(T0 - 10)
    assert (due, next_at) == ([], T0 - 5)


def test_each_tick_is_enqueued_once_however_many_race(
    storage: Storage, open_store: Callable[[], Storage]
) -> None:
    _schedule(storage)
    stores = [open_store() for _ in range(4)]
    results: list[Job | None] = []
    start = threading.Barrier(len(stores))

    def race(store: Storage, n: int) -> None:
        start.wait()
        results.append(store.enqueue_tick("tick", T0, T0 + 60,
                                          NewJob(f"tick-{n}", "true", 0), T0))

    threads = [threading.Thread(target=race, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [job for job in results if job is not None]
    assert len(winners) == 1 and len(results) == 4
    ticked = storage.get_schedule("tick")
    assert ticked is not None
    assert (ticked.next_run_at, ticked.last_run_at, ticked.last_job_id) == (
        T0 + 60, T0, winners[0].id)
    assert storage.count_by_state()[JobState.PENDING] == 1


def test_purge_deletes_old_finished_jobs_in_batches(storage: Storage) -> None:
    storage.enqueue([NewJob(f"j{i}", "x", 0) for i in range(5)], T0)
    _claim(storage, 5)
    for i in range(4):
        _finish(storage, f"j{i}", JobState.COMPLETED, T0 + i)
    deleted, cursor = storage.purge_batch(JobState.COMPLETED, T0 + 3, 2)
    assert (deleted, cursor is not None) == (2, True)
    deleted, cursor = storage.purge_batch(JobState.COMPLETED, T0 + 3, 2, cursor or 0)
    assert (deleted, cursor) == (1, None)
    assert [j.id for j in storage.list_jobs(None, 10)] == ["j4", "j3"]
    assert storage.attempts("j0") == []
