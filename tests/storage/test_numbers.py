"""Jobs given no id are numbered 1, 2, 3... by the store, on every backend: in the transaction
that stores them, never twice, and above every id that is a number already."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from queuectl.errors import DuplicateJob
from queuectl.jobspec.newjob import NUMBERED
from queuectl.models import NewJob
from queuectl.storage import Storage

T0 = 1_767_225_600.0


def _plain(count: int) -> list[NewJob]:
    return [NewJob(NUMBERED, "true", 0)] * count


def test_jobs_are_numbered_in_order_by_both_insert_paths(storage: Storage) -> None:
    assert [job.id for job in storage.enqueue(_plain(2), T0)] == ["1", "2"]
    assert storage.enqueue_ids(_plain(3), T0).ids == ["3", "4", "5"]
    # jobs that are not plain, with unique keys and dependencies, take the same numbers
    keyed = NewJob(NUMBERED, "true", 0, unique_key="k", tags=("t",))
    after = NewJob(NUMBERED, "true", 0, depends_on=("1",))
    assert [job.id for job in storage.enqueue([keyed, after], T0)] == ["6", "7"]
    [again] = storage.enqueue([keyed], T0)  # the live job holding the key: nothing stored
    assert (again.id, again.unique_conflict) == ("6", True)
    assert storage.enqueue_ids(_plain(1), T0).ids == ["9"]  # 8 went to the one not stored
    dependent = storage.get("7")
    assert dependent is not None and dependent.depends_on == ("1",)


def test_numbers_stay_above_ids_that_are_numbers(storage: Storage) -> None:
    storage.enqueue([NewJob("41", "true", 0), NewJob("0100", "true", 0),
                     NewJob("9" * 19, "true", 0)], T0)  # a leading zero, too long: not ours
    assert storage.enqueue_ids([NewJob(NUMBERED, "a", 0), NewJob("50", "b", 0),
                                NewJob(NUMBERED, "c", 0)], T0).ids == ["51", "50", "52"]
    with pytest.raises(DuplicateJob, match="'52'"):
        storage.enqueue([NewJob("52", "true", 0)], T0)
    assert storage.enqueue_ids(_plain(1), T0).ids == ["53"]


def test_an_import_keeps_numbers_above_its_ids(storage: Storage) -> None:
    [job] = storage.enqueue([NewJob("77", "true", 0)], T0)
    other = [replace(job, id="300")]
    storage.restore({}, other, [])
    assert storage.enqueue_ids(_plain(1), T0).ids == ["301"]


def test_concurrent_enqueuers_never_take_a_number_twice(
    open_store: Callable[[], Storage]
) -> None:
    stores = [open_store() for _ in range(4)]
    ids: list[list[str]] = [[] for _ in stores]

    def enqueue(index: int) -> None:
        for _ in range(25):
            ids[index] += stores[index].enqueue_ids(_plain(3), T0).ids

    threads = [threading.Thread(target=enqueue, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = [job_id for batch in ids for job_id in batch]
    assert sorted(every, key=int) == [str(n) for n in range(1, 301)]
