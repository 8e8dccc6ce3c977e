"""Bulk enqueues: the ids variants, their errors, and what they leave in the database."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from typing import Any

import pytest

from queuectl import DuplicateJob, InvalidInput, JobState, Queue
from queuectl.models import Enqueued


def _fields(queue: Queue) -> list[dict[str, Any]]:
    """Every job, oldest first, without what differs from one run to the next."""
    jobs = reversed(queue.jobs(limit=1000))
    return [{k: v for k, v in job.to_dict().items()
             if k not in ("id", "created_at", "updated_at", "run_at")} for job in jobs]


MIXED: list[dict[str, Any]] = [
    {"command": "echo 1"},
    {"command": "echo 2", "priority": 3, "queue": "q", "tags": ["t"], "env": {"A": "1"}},
    {"command": "echo 3"},
    {"id": "given", "command": "echo 4", "timeout": "5s", "max_retries": 0},
    {"command": "echo 5", "cwd": "/tmp"},
]


def test_ids_variant_stores_what_enqueue_many_stores(queue: Queue, tmp_path: Any) -> None:
    added = queue.enqueue_many(MIXED, ids_only=True)
    assert isinstance(added, Enqueued) and (added.created, added.existing) == (5, 0)
    assert added.ids[3] == "given" and len(set(added.ids)) == 5
    assert [job.id for job in reversed(queue.jobs())] == added.ids  # in the order given
    with Queue(tmp_path / "other.db", clock=queue.clock, environ={}) as other:
        other.enqueue_many(MIXED)
        assert _fields(queue) == _fields(other)


def test_jobs_are_claimed_in_the_order_of_the_batch(queue: Queue) -> None:
    specs = [{"command": f"echo {n}", **({"timeout": 60} if n % 2 else {})} for n in range(6)]
    ids = queue.enqueue_many(specs, ids_only=True).ids
    claimed, _ = queue.storage.record_and_claim("w", [], 6, queue.clock.now(),
                                                queue.clock.now() + 30)
    assert [job.id for job in claimed] == ids


def test_a_job_whose_unique_key_is_held_returns_the_live_job(queue: Queue) -> None:
    first = queue.enqueue("report.sh", unique_key="daily")
    added = queue.enqueue_many([{"command": "a"}, {"command": "b", "unique_key": "daily"}],
                               ids_only=True)
    assert (added.created, added.existing) == (1, 1)
    assert added.ids[1] == first.id
    assert len(queue.jobs()) == 2


def test_lines_with_blanks_name_the_real_line_in_errors(queue: Queue) -> None:
    lines = ['{"command":"a"}\n', "\n", "   \n", '{"command":"b","max_retries":-1}\n']
    with pytest.raises(InvalidInput, match=r"^line 4: max_retries"):
        queue.enqueue_many(lines, ids_only=True)
    assert queue.jobs() == []


def test_the_first_bad_line_is_reported_be_it_json_or_a_field(queue: Queue) -> None:
    with pytest.raises(InvalidInput, match=r"^line 2: unknown field 'x'"):
        queue.enqueue_many(['{"command":"a"}', '{"x":1}', '{bad'], ids_only=True)
    with pytest.raises(InvalidInput, match=r"^line 2: invalid JSON"):
        queue.enqueue_many(['{"command":"a"}', '{bad', '{"x":1}'], ids_only=True)
    # A byte order mark opens a file saved by a Windows editor, and is dropped there; later
    # on it is no part of JSON.
    with pytest.raises(InvalidInput, match=r"^line 2: invalid JSON: Unexpected UTF-8 BOM"):
        queue.enqueue_many(['\ufeff{"command":"a"}', '\ufeff{"command":"b"}'], ids_only=True)
    with pytest.raises(InvalidInput, match=r"^no jobs given"):
        queue.enqueue_many(["\n", ""], ids_only=True)
    assert queue.jobs() == []


def test_lines_may_be_bytes(queue: Queue) -> None:
    added = queue.enqueue_many(io.BytesIO(b'{"command":"a"}\n{"command":"b"}\n'), ids_only=True)
    assert added.created == 2
    assert [job.command for job in queue.jobs()] == ["b", "a"]


def test_jobs_and_ids_variants_of_jsonl_agree(queue: Queue) -> None:
    lines = ['{"command":"a"}', '{"command":"b","unique_key":"k"}', '{"command":"c"}']
    jobs = queue.enqueue_many(lines)
    added = queue.enqueue_many(lines, ids_only=True)
    assert [job.unique_conflict for job in jobs] == [False, False, False]
    assert (added.created, added.existing) == (2, 1)
    assert added.ids[1] == jobs[1].id


def test_what_the_store_refuses_in_a_batch_names_the_job(queue: Queue) -> None:
    queue.enqueue_many([{"id": "x", "command": "a"}])
    stored: list[dict[str, Any]] = [{"command": "b"}, {"id": "x", "command": "c"}]
    unknown: list[dict[str, Any]] = [{"id": "y", "command": "b"},
                                     {"command": "c", "depends_on": ["y", "d"]}]
    for ids_only in (False, True):
        with pytest.raises(DuplicateJob, match=r"^job 2: a job with id 'x' already exists$"):
            queue.enqueue_many(stored, ids_only=ids_only)
        with pytest.raises(InvalidInput, match=r"^job 2: depends_on: no job with id 'd'$"):
            queue.enqueue_many(unknown, ids_only=ids_only)
    assert [job.id for job in queue.jobs()] == ["x"]


def test_a_repeated_id_in_a_batch_refuses_the_batch(queue: Queue) -> None:
    specs = [{"id": "x", "command": "a"}, {"command": "b"}, {"id": "x", "command": "c"}]
    for ids_only in (False, True):
        with pytest.raises(DuplicateJob, match=r"^job 3: id 'x' is given twice \(job 1 too\)$"):
            queue.enqueue_many(specs, ids_only=ids_only)
    assert queue.jobs() == []


def test_jobs_given_no_id_are_numbered_above_every_numeric_id(queue: Queue) -> None:
    assert queue.enqueue("first").id == "1"
    assert queue.enqueue_many([{"command": "a"}, {"command": "b"}], ids_only=True).ids == ["2", "3"]
    queue.enqueue("given", id="10")
    queue.enqueue("not a number", id="0011")  # a leading zero: never handed out
    assert [job.id for job in queue.enqueue_many([{"command": "c"}, {"id": "x", "command": "d"},
                                                  {"command": "e"}])] == ["11", "x", "12"]
    with pytest.raises(DuplicateJob, match="'12'"):
        queue.enqueue("taken", id="12")
    assert queue.enqueue("next").id == "13"  # a refused batch takes no number


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_garbage_collector_is_paused_only_during_a_batch(queue: Queue) -> None:
    queue.enqueue_many([{"command": "a"}] * 10, ids_only=True)
    assert gc.isenabled()
    with pytest.raises(InvalidInput):
        queue.enqueue_many(['{"command":"a"}', "{bad"], ids_only=True)
    assert gc.isenabled()
    gc.disable()
    try:
        queue.enqueue_many([{"command": "b"}])
        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        gc.enable()


def test_one_method_for_one_job_and_one_for_many(queue: Queue) -> None:
    by_command = queue.enqueue("echo a", id="a", priority=2, tags=("x",))
    by_json = queue.enqueue({"command": "echo b", "id": "b"}, priority=2)
    assert (by_command.priority, by_command.tags, by_json.priority) == (2, ("x",), 2)
    with pytest.raises(InvalidInput, match="priority is given twice"):
        queue.enqueue({"command": "echo c", "priority": 1}, priority=2)
    with pytest.raises(InvalidInput, match="a job must be a JSON object, got list"):
        queue.enqueue([1, 2])  # type: ignore[arg-type]
    jobs = queue.enqueue_many([{"command": "echo d"}, {"command": "echo e"}])
    lines = queue.enqueue_many(['{"command": "echo f"}', "", '{"command": "echo g"}'],
                               ids_only=True)
    assert [job.command for job in jobs] == ["echo d", "echo e"]
    assert isinstance(lines, Enqueued) and lines.created == 2
    with pytest.raises(InvalidInput, match="line 2: "):
        queue.enqueue_many(['{"command": "echo h"}', '{"command": ""}'])
    assert queue.counts()[JobState.PENDING] == 6

