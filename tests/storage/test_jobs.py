"""Storage contract: storing, reading and retrying jobs, and the config table."""

from __future__ import annotations

import pytest

from queuectl.errors import DuplicateJob, InvalidTransition, JobNotFound
from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import Storage

from .conftest import execute_raw, stored

T0 = 1_767_225_600.0


def test_enqueue_stores_every_field(storage: Storage) -> None:
    job = NewJob("j1", "echo hi", 2, cwd="/tmp", env={"A": "1", "B": "x y"}, timeout=1.5)
    [returned] = storage.enqueue([job], T0)
    stored = storage.get("j1")
    assert stored == returned
    assert stored is not None
    assert (stored.state, stored.attempts, stored.runs, stored.max_retries) == (
        JobState.PENDING, 0, 0, 2)
    assert (stored.cwd, dict(stored.env or {}), stored.timeout) == ("/tmp", {"A": "1", "B": "x y"},
                                                                     1.5)
    assert stored.created_at == stored.updated_at == stored.run_at == T0


def test_get_of_an_unknown_id_is_none(storage: Storage) -> None:
    assert storage.get("nope") is None


def test_a_duplicate_id_is_refused_and_the_whole_batch_with_it(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "true", 0)], T0)
    with pytest.raises(DuplicateJob) as caught:
        storage.enqueue([NewJob("b", "true", 0), NewJob("a", "false", 0)], T0 + 1)
    assert caught.value.job_id == "a"
    assert storage.get("b") is None
    assert stored(storage, "a").command == "true"
    assert storage.count_by_state()[JobState.PENDING] == 1


def test_list_is_newest_first_with_state_filter_limit_and_offset(storage: Storage) -> None:
    storage.enqueue([NewJob(f"j{i}", "true", 0) for i in range(5)], T0)
    storage.record_and_claim("w", [], 2, T0, T0 + 30)  # j0, j1 now processing
    assert [j.id for j in storage.list_jobs(None, 10)] == ["j4", "j3", "j2", "j1", "j0"]
    assert [j.id for j in storage.list_jobs(None, 2, 1)] == ["j3", "j2"]
    assert [j.id for j in storage.list_jobs(JobState.PROCESSING, 10)] == ["j1", "j0"]
    assert storage.list_jobs(JobState.DEAD, 10) == []


def test_count_by_state_names_every_state(storage: Storage) -> None:
    assert storage.count_by_state() == dict.fromkeys(JobState, 0)
    storage.enqueue([NewJob("a", "true", 0), NewJob("b", "true", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)
    counts = storage.count_by_state()
    assert (counts[JobState.PENDING], counts[JobState.PROCESSING]) == (1, 1)


def _make_dead(storage: Storage, job_id: str) -> None:
    storage.enqueue([NewJob(job_id, "false", 0)], T0)
    [job], _ = storage.record_and_claim("w", [], 1, T0, T0 + 30)
    dead = Outcome(job_id, job.runs, JobState.DEAD, T0 + 1, exit_code=1, error="exit 1")
    assert storage.record_and_claim("w", [dead], 0, T0 + 1, T0 + 31) == ([], [])


def test_retry_puts_a_dead_job_back_keeping_its_history(storage: Storage) -> None:
    _make_dead(storage, "d")
    [retried] = storage.retry(["d"], T0 + 5, include_canceled=False)
    assert (retried.state, retried.attempts, retried.runs, retried.run_at) == (
        JobState.PENDING, 0, 1, T0 + 5)
    assert [a.error for a in storage.attempts("d")] == ["exit 1"]
    [again], _ = storage.record_and_claim("w", [], 1, T0 + 5, T0 + 35)
    assert (again.id, again.attempts, again.runs) == ("d", 1, 2)


def test_retry_is_all_or_nothing(storage: Storage) -> None:
    _make_dead(storage, "d")
    storage.enqueue([NewJob("p", "true", 0)], T0)
    with pytest.raises(InvalidTransition, match="'p' is pending"):
        storage.retry(["d", "p"], T0 + 5, include_canceled=False)
    assert stored(storage, "d").state == JobState.DEAD
    with pytest.raises(JobNotFound):
        storage.retry(["d", "missing"], T0 + 5, include_canceled=False)
    assert stored(storage, "d").state == JobState.DEAD


def test_retry_refused_for_a_held_unique_key_names_the_key_and_the_holder(
    storage: Storage,
) -> None:
    # Named after the rollback: on PostgreSQL the failed transaction takes no more reads.
    storage.enqueue([NewJob("theirs", "false", 0, unique_key="k")], T0)
    [job], _ = storage.record_and_claim("w", [], 1, T0, T0 + 30)
    dead = Outcome("theirs", job.runs, JobState.DEAD, T0 + 1, exit_code=1, error="exit 1")
    storage.record_and_claim("w", [dead], 0, T0 + 1, T0 + 31)
    _make_dead(storage, "d")
    storage.enqueue([NewJob("ours", "true", 0, unique_key="k")], T0 + 2)
    with pytest.raises(InvalidTransition) as refused:
        storage.retry(["d", "theirs"], T0 + 5, include_canceled=False)
    assert str(refused.value) == ("job 'theirs' has unique key 'k', which live job 'ours' "
                                  "holds already: nothing retried")
    assert (stored(storage, "d").state, stored(storage, "theirs").state) == (
        JobState.DEAD, JobState.DEAD)


def test_retry_of_a_canceled_job_only_when_asked(storage: Storage) -> None:
    storage.enqueue([NewJob("c", "true", 0)], T0)
    execute_raw(storage, "UPDATE jobs SET state = 'canceled' WHERE id = 'c'")
    with pytest.raises(InvalidTransition):
        storage.retry(["c"], T0 + 1, include_canceled=False)
    [retried] = storage.retry(["c"], T0 + 1, include_canceled=True)
    assert retried.state == JobState.PENDING


def test_retry_all_dead(storage: Storage) -> None:
    _make_dead(storage, "d1")
    _make_dead(storage, "d2")
    storage.enqueue([NewJob("p", "true", 0)], T0)
    assert sorted(storage.retry_all_dead(T0 + 9)) == ["d1", "d2"]
    assert storage.count_by_state()[JobState.PENDING] == 3
    assert storage.retry_all_dead(T0 + 9) == []


def test_attempt_history_keeps_output_bytes(storage: Storage) -> None:
    storage.enqueue([NewJob("o", "true", 0)], T0)
    [job], _ = storage.record_and_claim("w", [], 1, T0, T0 + 30)
    done = Outcome("o", job.runs, JobState.COMPLETED, T0 + 2, exit_code=0,
                   output=b"\x00bin\xffary\n", output_dropped=7)
    storage.record_and_claim("w", [done], 0, T0 + 2, T0 + 32)
    [attempt] = storage.attempts("o")
    assert (attempt.number, attempt.worker_id, attempt.started_at, attempt.finished_at) == (
        1, "w", T0, T0 + 2)
    assert (attempt.exit_code, attempt.output, attempt.output_dropped) == (
        0, b"\x00bin\xffary\n", 7)


def test_config_set_replace_unset(storage: Storage) -> None:
    assert storage.config_items() == {}
    storage.set_config("max_retries", "5")
    storage.set_config("backoff_base", "3")
    storage.set_config("max_retries", "6")
    assert storage.config_items() == {"backoff_base": "3", "max_retries": "6"}
    storage.set_config("max_retries", None)
    assert storage.config_items() == {"backoff_base": "3"}


def test_a_plain_job_is_stored_with_every_default(storage: Storage) -> None:
    [returned] = storage.enqueue([NewJob("p", "echo hi", 3, cwd="/srv")], T0)
    assert NewJob("p", "echo hi", 3, cwd="/srv").plain
    assert storage.get("p") == returned
    assert (returned.state, returned.queue, returned.priority, returned.retry_on_timeout,
            returned.waiting_on, returned.fatal_exit_codes, returned.tags) == (
        JobState.PENDING, "default", 0, True, 0, (), ())


def test_enqueue_ids_stores_the_batch_in_order_and_returns_only_ids(storage: Storage) -> None:
    jobs = [NewJob("a", "true", 0), NewJob("b", "true", 0, priority=0, timeout=5.0),
            NewJob("c", "true", 0, cwd="/tmp"), NewJob("d", "true", 0, tags=("t",))]
    added = storage.enqueue_ids(jobs, T0)
    assert (added.ids, added.created, added.existing) == (["a", "b", "c", "d"], 4, 0)
    assert [job.id for job in storage.list_jobs(None, 10)] == ["d", "c", "b", "a"]
    assert stored(storage, "b").timeout == 5.0
    assert stored(storage, "d").tags == ("t",)


def test_enqueue_ids_names_the_live_job_of_a_held_unique_key(storage: Storage) -> None:
    storage.enqueue([NewJob("first", "true", 0, unique_key="k")], T0)
    added = storage.enqueue_ids([NewJob("x", "true", 0), NewJob("y", "true", 0, unique_key="k")],
                                T0 + 1)
    assert (added.ids, added.created, added.existing) == (["x", "first"], 1, 1)
    assert storage.get("y") is None


def test_enqueue_ids_refuses_a_duplicate_id_and_the_whole_batch(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "true", 0)], T0)
    with pytest.raises(DuplicateJob) as caught:
        storage.enqueue_ids([NewJob("b", "true", 0), NewJob("a", "false", 0)], T0 + 1)
    assert caught.value.job_id == "a"
    assert storage.get("b") is None
