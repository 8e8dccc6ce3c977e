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
    (lambda queue: queue.listing(limit=0), "limit"),
    (lambda queue: queue.listing(tag="t", limit=0), "limit"),
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


_NAN, _INF = float("nan"), float("inf")


@pytest.mark.parametrize("slots", [_NAN, 1.5, True, 0, 2**70, "2"])
def test_worker_slots_that_are_no_whole_number_from_1_to_1024_are_invalid_input(
    queue: Queue, slots: Any
) -> None:
    """worker(slots=nan) made a worker (and True one of one slot); 2**70 one that would
    have started that many threads."""
    with pytest.raises(InvalidInput, match=r"^slots: "):
        queue.worker(slots=slots)
    with pytest.raises(InvalidInput, match=r"^slots: "):
        queue.start_worker_detached(slots)
    assert queue.workers() == []


def test_a_worker_given_one_queue_as_a_string_serves_that_queue(queue: Queue) -> None:
    """It served the queues 'v', 'i', 'd', 'e' and 'o': the string was read as a list."""
    queue.enqueue("true", id="v1", queue="video")
    queue.enqueue("true", id="o1", queue="o")
    with queue.worker(queues="video") as worker:
        assert worker.queues == ["video"]
        while worker.run_once():
            pass
    assert queue.get("v1").state is JobState.COMPLETED
    assert queue.get("o1").state is JobState.PENDING


@pytest.mark.parametrize("queues", [5, [5], ["bad name"]])
def test_worker_queues_that_are_no_names_are_invalid_input(queue: Queue, queues: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^(queues|--queue): "):
        queue.worker(queues=queues)


@pytest.mark.parametrize(("arguments", "field"), [
    ({"scan": _NAN}, "scan"), ({"scan": 2**70}, "scan"), ({"scan": 1.5}, "scan"),
    ({"scan": True}, "scan"), ({"limit": 1.5}, "limit"), ({"before": 5}, "before"),
    ({"after": _INF}, "after"), ({"before": "2" * 30}, "before"), ({"after": "1.5"}, "after"),
])
def test_search_arguments_that_are_no_count_or_cursor_are_invalid_input(
    queue: Queue, arguments: dict[str, Any], field: str
) -> None:
    """scan=nan looked at every job; 2**70 failed with OverflowError; a cursor of 5 or 1.5
    was read as one, and one of infinity failed with OverflowError."""
    queue.enqueue("true", id="j")
    with pytest.raises(InvalidInput, match=rf"^{field}: "):
        queue.search_jobs(text="j", **arguments)


@pytest.mark.parametrize("jobs", [5, None, "{\"command\": \"true\"}", b"x",
                                  {"command": "true"}])
def test_enqueue_many_of_what_is_no_list_of_jobs_is_invalid_input(
    queue: Queue, jobs: Any
) -> None:
    """enqueue_many(5) raised TypeError; a string was read as lines of one character, and
    one job's mapping as the lines of its keys ('line 1: invalid JSON')."""
    with pytest.raises(InvalidInput, match=r"^jobs: expected job objects or lines of JSON"):
        queue.enqueue_many(jobs)
    assert sum(queue.counts().values()) == 0


@pytest.mark.parametrize("since", [_NAN, _INF, -_INF, 2**70, "x", True, None])
def test_finished_runs_of_a_window_that_is_no_time_are_invalid_input(
    queue: Queue, since: Any
) -> None:
    """nan, inf or 'x' read no runs without a word, and 2**70 raised OverflowError; the call
    refuses them, not the first step of the iterator it returns."""
    with pytest.raises(InvalidInput, match=r"^since: .* is not a time within years 1-9999"):
        queue.finished_runs(since)
    with pytest.raises(InvalidInput, match=r"^until: .* is not a time within years 1-9999"):
        queue.finished_runs(0, since if since is not None else _NAN)
    assert list(queue.finished_runs(-(10**9), 10**10)) == []  # 1938 to 2286: times too


@pytest.mark.parametrize("older_than", [_NAN, _INF, -1, True, 2**70, 1e300, "200000d"])
def test_purge_older_than_that_is_no_duration_of_at_most_100_years_is_invalid_input(
    queue: Queue, older_than: Any
) -> None:
    """NaN, infinity and 2**70 purged nothing without a word (True was refused already)."""
    _dead(queue, "d1")
    with pytest.raises(InvalidInput, match=r"^older-than: "):
        queue.purge(["dead"], older_than=older_than)
    assert queue.get("d1").state is JobState.DEAD
    assert queue.purge(["dead"], older_than="36500d") == 0


@pytest.mark.parametrize("states", [5, None])
def test_purge_of_states_that_are_no_list_is_invalid_input(queue: Queue, states: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^state: expected a state name"):
        queue.purge(states)


@pytest.mark.parametrize(("call", "field"), [
    (lambda queue: queue.stats_series(bars=1.5), "bars"),
    (lambda queue: queue.stats(step="x"), "step"),
    (lambda queue: queue.stats(queue=5), "queue"),
    (lambda queue: queue.stats_series(queue="no such name!"), "queue"),
    (lambda queue: queue.jobs(limit=1.5), "limit"),
    (lambda queue: queue.follow("j", _NAN), "attempt"),
    (lambda queue: queue.follow("j", 0), "attempt"),
])
def test_other_read_arguments_of_the_wrong_kind_are_invalid_input(
    queue: Queue, call: Any, field: str
) -> None:
    """bars=1.5 made a series, step='x' raised TypeError, a queue that is no name matched
    nothing without a word, limit=1.5 listed one job, and follow of attempt nan waited for
    ever for a run of that number."""
    queue.enqueue("true", id="j")
    with pytest.raises(InvalidInput, match=rf"^{field}: "):
        call(queue)


def test_a_closed_queue_refuses_to_be_used_again(db_path: Any) -> None:
    """Used after close() (or after its with block), a Queue opened its database again
    without a word, and kept that connection open."""
    from queuectl.errors import QueueClosed, StorageError

    with Queue(db_path, environ={}) as queue:
        queue.enqueue("true", id="j")
    for use in (lambda: queue.get("j"), lambda: queue.enqueue("true"), queue.counts,
                lambda: queue.enqueue_many([{"command": "true"}]), queue.worker,
                lambda: queue.queues.list(), lambda: queue.url):
        with pytest.raises(QueueClosed, match=r"^this queue is closed: open a new Queue"):
            use()
    assert issubclass(QueueClosed, StorageError)
    queue.close()  # closing again does nothing
    with Queue(db_path, environ={}) as again:
        assert [job.id for job in again.jobs()] == ["j"]


@pytest.mark.parametrize(("call", "field"), [
    (lambda queue: queue.get([]), "id"),
    (lambda queue: queue.get(["j"]), "id"),
    (lambda queue: queue.follow(["j", "k"]), "id"),
    (lambda queue: queue.run_output(["j"], 1), "id"),
    (lambda queue: queue.search_jobs(text=["j"]), "search"),
    (lambda queue: queue.search_jobs(error=["x"]), "error"),
])
def test_a_list_where_one_id_or_text_belongs_is_invalid_input(
    queue: Queue, call: Any, field: str
) -> None:
    """get([]) failed in the database (StorageError 'type list is not supported'), follow of
    two ids followed the first, and a search text given as a list raised AttributeError."""
    queue.enqueue("true", id="j")
    with pytest.raises(InvalidInput, match=rf"^{field}: expected a string, got list"):
        call(queue)


def test_a_refusal_quotes_a_long_value_cut_to_one_line(queue: Queue) -> None:
    """A step or window given as a long value was quoted whole: 10,000 characters in one
    error line."""
    long: Any = "x" * 10_000  # a string where a number belongs, as a caller may pass
    for call in (lambda: queue.stats("1h", step=long), lambda: queue.stats(long),
                 lambda: queue.wait(["j"], timeout=long)):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert len(str(refused.value)) < 200
