"""The library calls behind the dashboard, and /metrics' pieces, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from queuectl import InvalidInput, InvalidTransition, JobNotFound, JobState, Queue
from queuectl.clock import FakeClock
from queuectl.web.metrics import Family, collect, render
from tests.helpers import drain


def test_search_jobs_walks_every_page_both_ways(queue: Queue) -> None:
    queue.enqueue_many([{"id": f"j{i:02d}", "command": f"echo {i}"} for i in range(25)])
    pages, page = [], queue.search_jobs(limit=10)
    while True:
        pages.append([job.id for job in page.jobs])
        if page.older is None:
            break
        page = queue.search_jobs(before=page.older, limit=10)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [job_id for p in pages for job_id in p] == [f"j{i:02d}" for i in reversed(range(25))]
    back = queue.search_jobs(after=page.newer, limit=10)
    assert [job.id for job in back.jobs] == pages[1]
    assert queue.search_jobs(after=back.newer, limit=10).newer is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"limit": 0}, "limit: must be between 1 and 1000"),
    ({"limit": 1001}, "limit: must be between 1 and 1000"),
    ({"before": "1", "after": "2"}, "before or after, not both"),
    ({"state": "bogus"}, "unknown state 'bogus'"),
])
def test_search_jobs_refuses_bad_arguments(queue: Queue, kwargs: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        queue.search_jobs(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"queue": "no spaces"}, "queue: 'no spaces' must be"),
    ({"queue": "video", "limit": 0}, "limit: must be between 1 and 1000"),
    ({"queue": "video", "before": "1", "after": "2"}, "before or after, not both"),
    ({"queue": "video", "state": "bogus"}, "unknown state 'bogus'"),
])
def test_search_jobs_in_a_queue_refuses_bad_arguments(queue: Queue, kwargs: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        queue.search_jobs(**kwargs)


def test_search_jobs_lists_one_queue_or_all(queue: Queue) -> None:
    queue.enqueue("true", id="v", queue="video")
    queue.enqueue("true", id="d")
    assert [job.id for job in queue.search_jobs(queue="video").jobs] == ["v"]
    assert [job.id for job in queue.search_jobs("pending").jobs] == ["d", "v"]


def test_blank_text_matches_everything(queue: Queue) -> None:
    queue.enqueue("true", id="a")
    assert [job.id for job in queue.search_jobs(text="   ").jobs] == ["a"]


def test_delete_takes_finished_jobs_only_all_or_nothing(queue: Queue) -> None:
    queue.enqueue("exit 1", id="dead", max_retries=0)
    drain(queue)
    queue.enqueue("true", id="waiting")
    with pytest.raises(InvalidInput):
        queue.delete([])
    with pytest.raises(InvalidTransition, match="'waiting' is pending"):
        queue.delete(["dead", "waiting"])
    assert queue.get("dead").state is JobState.DEAD
    assert queue.delete(["dead", "dead"]) == ["dead"]
    with pytest.raises(JobNotFound):
        queue.get("dead")


def test_run_totals_count_each_run_once_and_keep_purged_runs(
    queue: Queue, clock: FakeClock
) -> None:
    queue.enqueue("true", id="a")
    drain(queue)
    assert queue.run_totals()["default"].completed == 1
    clock.advance(10)
    assert queue.run_totals()["default"].completed == 1  # read again, counted once
    clock.advance(3600)  # another hour's rollup
    queue.enqueue("exit 1", id="b", max_retries=0)
    drain(queue)
    totals = queue.run_totals()["default"]
    assert (totals.completed, totals.failed, totals.dead) == (1, 1, 1)
    assert (totals.run_time.count, totals.wait_time.count) == (2, 2)
    queue.delete(["a"])  # a counter never goes back: purging old jobs leaves it as it was
    clock.advance(60)
    totals = queue.run_totals()["default"]
    assert (totals.completed, totals.failed, totals.dead) == (1, 1, 1)


def test_text_format_escapes_labels_and_help() -> None:
    family = Family("x_total", "counter", 'Help with \\ and\nnewline.')
    family.add(1.5, queue='a"b\\c\nd')
    family.add(float("inf"), le="+Inf")
    assert render([family]) == (
        '# HELP x_total Help with \\\\ and\\nnewline.\n'
        '# TYPE x_total counter\n'
        'x_total{queue="a\\"b\\\\c\\nd"} 1.5\n'
        'x_total{le="+Inf"} +Inf\n'
    )


def test_an_empty_database_shows_the_default_queue_at_zero() -> None:
    [jobs] = [family for family in collect([], {}, []) if family.name == "queuectl_jobs"]
    assert jobs.samples == [("queuectl_jobs", {"queue": "default", "state": state.value}, 0)
                            for state in JobState]


def test_a_bounded_search_finds_every_match_page_by_page_both_ways(queue: Queue) -> None:
    queue.enqueue_many([{"id": f"j{i:02d}", "command": "echo hit" if i % 7 == 3 else "true"}
                        for i in range(40)])  # hits: j03, j10, j17, j24, j31, j38
    pages, page = [], queue.search_jobs(text="hit", limit=2, scan=8)
    while True:  # each page looks at 8 jobs at most: some pages hold fewer than 2, or none
        pages.append([job.id for job in page.jobs])
        if page.older is None:
            break
        page = queue.search_jobs(text="hit", before=page.older, limit=2, scan=8)
    assert all(len(p) <= 2 for p in pages) and len(pages) > 3
    assert (page.scanned, page.stopped) == (0, None)  # the oldest page: nothing left
    assert [job_id for p in pages for job_id in p] == ["j38", "j31", "j24", "j17", "j10", "j03"]
    found: list[str] = []
    while page.newer is not None:  # and back up to the newest
        page = queue.search_jobs(text="hit", after=page.newer, limit=2, scan=8)
        found = [job.id for job in page.jobs] + found
    assert found == ["j38", "j31", "j24", "j17", "j10"]
    unbounded = queue.search_jobs(text="hit", limit=10)
    assert len(unbounded.jobs) == 6 and unbounded.older is None
    assert (unbounded.scanned, unbounded.stopped) == (0, None)
    # The first page looks at j39..j32, finds only j38, and says where it stopped.
    first = queue.search_jobs(text="hit", limit=2, scan=8)
    assert ([job.id for job in first.jobs], first.scanned, first.stopped) == (
        ["j38"], 8, "older")
    assert first.older is not None
    upward = queue.search_jobs(text="hit", after="0", limit=2, scan=8)
    assert ([job.id for job in upward.jobs], upward.scanned, upward.stopped) == (
        ["j03"], 8, "newer")
