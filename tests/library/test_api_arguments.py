"""The library's verbs given what a Python caller may hand them: a generator, a lone string,
bytes, duplicates, NaN. Each gets a clear ``InvalidInput`` or does what it says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from queuectl import InvalidInput, JobState, Queue


def _dead(queue: Queue, job_id: str) -> None:
    queue.enqueue("exit 1", id=job_id, max_retries=0)
    with queue.worker() as worker:
        while worker.run_once():
            pass
    assert queue.get(job_id).state is JobState.DEAD


def _ids(*ids: str) -> Iterator[str]:
    yield from ids


def test_a_generator_of_ids_is_read_once_and_acted_on(queue: Queue) -> None:
    _dead(queue, "d1")
    _dead(queue, "d2")
    assert [job.id for job in queue.retry(_ids("d1"))] == ["d1"]
    assert queue.get("d1").state is JobState.PENDING
    assert [job.id for job in queue.cancel(_ids("d1"), wait=0)] == ["d1"]
    assert queue.get("d1").state is JobState.CANCELED
    assert queue.delete(_ids("d1", "d2")) == ["d1", "d2"]
    assert queue.counts()[JobState.DEAD] == 0
    job = queue.enqueue("true", id="w1")
    assert [found.id for found in queue.wait(_ids(job.id), timeout=0)] == ["w1"]


def test_an_empty_generator_is_no_ids(queue: Queue) -> None:
    for verb in (queue.retry, queue.delete, queue.restart, queue.remove):
        with pytest.raises(InvalidInput, match="give at least one job id"):
            verb(_ids())


def test_one_id_as_a_string_is_that_id_for_every_verb(queue: Queue) -> None:
    _dead(queue, "d1")
    assert [job.restarted_from for job in queue.restart("d1")] == ["d1"]
    assert queue.remove("d1") == ["d1"]


def test_duplicate_ids_act_once(queue: Queue) -> None:
    _dead(queue, "d1")
    assert [job.id for job in queue.retry(["d1", "d1"])] == ["d1"]


@pytest.mark.parametrize("bad", [5, None, b"d1", 1.5])
def test_an_id_that_is_no_string_is_invalid_input(queue: Queue, bad: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^id: expected a string"):
        queue.get(bad)
    with pytest.raises(InvalidInput, match=r"^id: expected a string"):
        queue.attempts(bad)


@pytest.mark.parametrize("bad", [[5], [b"d1"], ["a\0b"]])
def test_restart_and_remove_check_ids_as_the_other_verbs_do(queue: Queue, bad: Any) -> None:
    for verb in (queue.restart, queue.remove, queue.retry, queue.delete):
        with pytest.raises(InvalidInput, match=r"^id: "):
            verb(bad)


def test_a_nan_wait_is_refused_before_anything_is_written(queue: Queue) -> None:
    """A NaN deadline is never reached: waiting on a job that does not finish hung for ever."""
    job = queue.enqueue("sleep 60", id="long")
    nan = float("nan")
    with pytest.raises(InvalidInput, match=r"^timeout: expected a number of seconds"):
        queue.wait([job.id], timeout=nan)
    with pytest.raises(InvalidInput, match=r"^wait: expected a number of seconds"):
        queue.cancel([job.id], wait=nan)
    assert queue.get(job.id).state is JobState.PENDING, "canceled although refused"
    with pytest.raises(InvalidInput, match=r"^wait: "):
        queue.parallel(2, wait=nan)
    with pytest.raises(InvalidInput, match=r"^timeout: "):
        queue.stop_workers(timeout=nan)
    with pytest.raises(InvalidInput, match=r"^timeout: expected a number of seconds"):
        queue.wait([job.id], timeout="1")  # type: ignore[arg-type]


@pytest.mark.parametrize("since", [float("nan"), float("inf"), 1e300, "99999999999999999999999d"])
def test_a_stats_window_past_100_years_is_invalid_input(queue: Queue, since: Any) -> None:
    """It crashed with OverflowError (SQLite's integers, or a minute of infinity)."""
    with pytest.raises(InvalidInput, match=r"^since: must be more than zero and at most 100"):
        queue.stats(since)
    with pytest.raises(InvalidInput, match=r"^since: must be more than zero and at most 100"):
        queue.stats_series(since)


@pytest.mark.parametrize("step", [float("nan"), 0, -60, 1e-9])
def test_a_stats_step_must_make_a_bounded_number_of_bars(queue: Queue, step: float) -> None:
    """A step of 1e-9 made 3.6e12 bars of an hour, and never returned."""
    with pytest.raises(InvalidInput, match=r"^step: must be more than zero"):
        queue.stats("1h", step=step)
    assert len(queue.stats("1h", step=60).series) == 60


@pytest.mark.parametrize("limit", [float("inf"), 1.5, b"2", [2], float("nan")])
def test_a_queue_limit_that_is_no_whole_number_is_invalid_input(queue: Queue, limit: Any) -> None:
    """inf crashed with OverflowError, 1.5 was stored as 1 and b"2" as 2."""
    with pytest.raises(InvalidInput, match=r"^limit: expected a whole number or none"):
        queue.queues.limit("video", limit)
    assert [info.limit for info in queue.queues.list() if info.name == "video"] in ([], [None])
    assert queue.queues.limit("video", 2.0) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("state", [5, 1.5, [JobState.DEAD]])
def test_a_state_that_is_no_name_is_invalid_input(queue: Queue, state: Any) -> None:
    """It failed deep in storage with AttributeError: 'int' object has no attribute 'value'."""
    with pytest.raises(InvalidInput, match=r"^state: expected a state name"):
        queue.jobs(state)
    with pytest.raises(InvalidInput, match=r"^state: expected a state name"):
        queue.listing(state)
    with pytest.raises(InvalidInput, match=r"^state: expected a state name"):
        queue.purge([state])


def test_purge_takes_one_state_as_a_string(queue: Queue) -> None:
    _dead(queue, "d1")
    assert queue.purge("dead") == 1


@pytest.mark.parametrize(("call", "field"), [
    (lambda queue: queue.run_output("j", 2**70), "run"),
    (lambda queue: queue.run_output("j", 1, float("nan")), "offset"),
    (lambda queue: queue.run_output("j", "1"), "run"),
    (lambda queue: queue.running_jobs(float("nan")), "limit"),
    (lambda queue: queue.running_jobs(2**70), "limit"),
    (lambda queue: queue.running_jobs(-1), "limit"),
    (lambda queue: queue.listing(limit=float("nan")), "limit"),
])
def test_numbers_past_the_database_or_no_whole_number_are_invalid_input(
    queue: Queue, call: Any, field: str
) -> None:
    """They failed with OverflowError, or with StorageError 'datatype mismatch', or read
    nothing without a word (running_jobs(-1) was [])."""
    queue.enqueue("true", id="j")
    with pytest.raises(InvalidInput, match=rf"^{field}: must be between"):
        call(queue)


def test_a_config_key_or_time_zone_that_is_no_string_is_invalid_input(queue: Queue) -> None:
    """config_get(5) raised AttributeError ('int' object has no attribute 'strip'), and a tz
    of 5 TypeError from zoneinfo."""
    for call in (lambda: queue.config_get(5), lambda: queue.config_set(5, "1"),  # type: ignore[arg-type]
                 lambda: queue.config_unset(5)):  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match=r"^config key: expected a string, got int"):
            call()
    with pytest.raises(InvalidInput, match=r"^tz: expected a time zone name, got int"):
        queue.schedules.add("nightly", {"command": "true"}, cron="0 2 * * *", tz=5)  # type: ignore[arg-type]
    assert queue.schedules.list() == []
