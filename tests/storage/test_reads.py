"""Storage contract: the reads behind the dashboard, stats and ``status --watch``."""

from __future__ import annotations

import pytest

from queuectl.errors import InvalidInput, InvalidTransition, JobNotFound
from queuectl.listing import JobQuery
from queuectl.models import Job, JobState, NewJob, Outcome
from queuectl.storage import Storage

T0 = 1_767_225_600.0


def _ids(page_jobs: list[Job]) -> list[str]:
    return [job.id for job in page_jobs]


def test_search_pages_newest_first_by_keyset(storage: Storage) -> None:
    storage.enqueue([NewJob(f"j{i}", f"echo {i}", 0) for i in range(5)], T0)
    first = storage.search_jobs(JobQuery(), 2)
    assert (_ids(first.jobs), first.newer) == (["j4", "j3"], None)
    second = storage.search_jobs(JobQuery(), 2, before=first.older)
    assert _ids(second.jobs) == ["j2", "j1"]
    last = storage.search_jobs(JobQuery(), 2, before=second.older)
    assert (_ids(last.jobs), last.older) == (["j0"], None)
    back = storage.search_jobs(JobQuery(), 2, after=last.newer)
    assert _ids(back.jobs) == ["j2", "j1"]


def test_search_by_state_and_text(storage: Storage) -> None:
    storage.enqueue([NewJob("Backup-1", "tar czf /b1", 0), NewJob("mail", "SEND mail", 0),
                     NewJob("backup-2", "tar czf /b2", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)  # Backup-1 processing
    assert _ids(storage.search_jobs(JobQuery(text="BACKUP"), 10).jobs) == ["backup-2",
                                                                           "Backup-1"]
    assert _ids(storage.search_jobs(JobQuery(text="send"), 10).jobs) == ["mail"]
    processing = JobQuery(state=JobState.PROCESSING, text="backup")
    assert _ids(storage.search_jobs(processing, 10).jobs) == ["Backup-1"]
    with pytest.raises(InvalidInput):
        storage.search_jobs(JobQuery(), 2, before="not-a-cursor")


def test_search_by_queue_pages_within_the_queue(storage: Storage) -> None:
    storage.enqueue([NewJob(f"v{i}", "encode", 0, queue="video") for i in range(3)]
                    + [NewJob("m", "send", 0, queue="mail"), NewJob("d", "encode", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)  # v0, the oldest, is processing
    video = JobQuery(queue="video")
    first = storage.search_jobs(video, 2)
    assert _ids(first.jobs) == ["v2", "v1"]
    rest = storage.search_jobs(video, 2, before=first.older)
    assert (_ids(rest.jobs), rest.older) == (["v0"], None)
    assert _ids(storage.search_jobs(video, 2, after=rest.newer).jobs) == ["v2", "v1"]
    assert _ids(storage.search_jobs(JobQuery(queue="default"), 10).jobs) == ["d"]
    assert _ids(storage.search_jobs(JobQuery(queue="nope"), 10).jobs) == []
    in_state = JobQuery(state=JobState.PENDING, text="ENC", queue="video")
    assert _ids(storage.search_jobs(in_state, 10).jobs) == ["v2", "v1"]
    assert _ids(storage.search_jobs(JobQuery(state=JobState.PROCESSING, queue="mail"),
                                    10).jobs) == []


def test_search_by_tag_and_error_text(storage: Storage) -> None:
    storage.enqueue([NewJob(f"t{i}", "true", 0, tags=("nightly",) if i % 2 else ())
                     for i in range(6)], T0)
    storage.record_and_claim("w", [], 2, T0, T0 + 30)  # t0 and t1
    storage.record_and_claim("w", [
        Outcome("t0", 1, JobState.DEAD, T0 + 1, exit_code=3, error="Disk FULL on /var"),
        Outcome("t1", 1, JobState.DEAD, T0 + 1, exit_code=1, error="timed out"),
    ], 0, T0 + 1, T0 + 31)
    nightly = JobQuery(tag="nightly")
    assert _ids(storage.search_jobs(nightly, 10).jobs) == ["t5", "t3", "t1"]
    first = storage.search_jobs(nightly, 2)
    assert _ids(storage.search_jobs(nightly, 2, before=first.older).jobs) == ["t1"]
    assert _ids(storage.search_jobs(JobQuery(state=JobState.DEAD, tag="nightly"), 10).jobs) \
        == ["t1"]
    assert _ids(storage.search_jobs(JobQuery(error="disk full"), 10).jobs) == ["t0"]
    assert _ids(storage.search_jobs(JobQuery(state=JobState.DEAD, error="TIMED"), 10).jobs) \
        == ["t1"]
    assert _ids(storage.search_jobs(JobQuery(tag="nightly", error="disk"), 10).jobs) == []
    assert _ids(storage.search_jobs(JobQuery(tag="nope"), 10).jobs) == []


def test_search_by_error_matches_only_the_error_a_job_is_in(storage: Storage) -> None:
    """What lists show (``Job.current_error``): a dead job retried since, or a job canceled,
    keeps its stored last_error but is in no error. The filter matched the stored text: it
    listed such jobs under 'disk full' with a blank error cell."""
    storage.enqueue([NewJob(f"e{i}", "true", 0) for i in range(3)], T0)
    storage.record_and_claim("w", [], 3, T0, T0 + 30)
    storage.record_and_claim("w", [
        Outcome(f"e{i}", 1, JobState.DEAD, T0 + 1, exit_code=3, error="Disk FULL on /var")
        for i in range(3)
    ], 0, T0 + 1, T0 + 31)
    storage.retry(["e1"], T0 + 2, include_canceled=False)  # e1: pending, in no error
    storage.enqueue([NewJob("c", "true", 0)], T0 + 3)
    storage.cancel(["c"], T0 + 3)  # c: canceled, its stored last_error 'canceled'
    retried = storage.get("e1")
    assert retried is not None and retried.last_error == "Disk FULL on /var"
    for query in (JobQuery(error="disk full"), JobQuery(state=JobState.DEAD, error="disk")):
        found = storage.search_jobs(query, 10).jobs
        assert _ids(found) == ["e2", "e0"]
        assert all(job.current_error and "Disk" in job.current_error for job in found)
        older = storage.search_jobs(query, 1, before=storage.search_jobs(query, 1).older)
        assert _ids(older.jobs) == ["e0"]
        assert _ids(storage.search_jobs(query, 10, after="0").jobs) == ["e2", "e0"]
    assert _ids(storage.search_jobs(JobQuery(state=JobState.PENDING, error="disk"),
                                    10).jobs) == []
    assert _ids(storage.search_jobs(JobQuery(error="canceled"), 10).jobs) == []


def test_running_jobs_longest_running_first(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "true", 0), NewJob("b", "true", 0)], T0)
    storage.record_and_claim("w", [], 1, T0 + 1, T0 + 31)
    storage.record_and_claim("w", [], 1, T0 + 2, T0 + 32)
    running = storage.running_jobs(10)
    assert [(r.job.id, r.started_at) for r in running] == [("a", T0 + 1), ("b", T0 + 2)]


def test_finished_runs_in_a_window_with_paging(storage: Storage) -> None:
    storage.enqueue([NewJob(f"j{i}", "true", 0) for i in range(3)], T0)
    storage.record_and_claim("w", [], 3, T0, T0 + 30)
    outcomes = [
        Outcome("j0", 1, JobState.COMPLETED, T0 + 1, exit_code=0),
        Outcome("j1", 1, JobState.DEAD, T0 + 2, exit_code=1, error="exit 1"),
        Outcome("j2", 1, JobState.COMPLETED, T0 + 3, exit_code=0),
    ]
    storage.record_and_claim("w", outcomes, 0, T0 + 3, T0 + 33)
    runs = storage.finished_runs(T0, T0 + 10, 10)
    assert [(r.job_id, r.succeeded, r.ended_dead) for r in runs] == [
        ("j0", True, False), ("j1", False, True), ("j2", True, False)]
    assert runs[0].enqueued_at == T0 and runs[0].run_time == 1
    first = storage.finished_runs(T0, T0 + 10, 2)
    last = first[-1]
    rest = storage.finished_runs(T0, T0 + 10, 2, after=(last.finished_at, last.job_id,
                                                          last.number))
    assert [r.job_id for r in first + rest] == ["j0", "j1", "j2"]
    assert [r.job_id for r in storage.finished_runs(T0 + 2, T0 + 3, 10)] == ["j1"]


def test_delete_only_finished_jobs_all_or_nothing(storage: Storage) -> None:
    storage.enqueue([NewJob("done", "true", 0), NewJob("waiting", "true", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)
    storage.record_and_claim("w", [Outcome("done", 1, JobState.COMPLETED, T0, exit_code=0)], 0,
                             T0, T0)
    with pytest.raises(InvalidTransition):
        storage.delete_jobs(["done", "waiting"])
    with pytest.raises(JobNotFound):
        storage.delete_jobs(["done", "missing"])
    assert storage.get("done") is not None
    assert storage.delete_jobs(["done"]) == ["done"]
    assert storage.get("done") is None and storage.attempts("done") == []
