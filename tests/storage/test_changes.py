"""Restart, remove and edit on every backend: all or nothing, in the states that allow them."""

from __future__ import annotations

import pytest

from queuectl.errors import InvalidTransition, JobNotFound
from queuectl.jobspec.newjob import NUMBERED
from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import Storage

T0 = 1_767_225_600.0


def _finish(storage: Storage, job_id: str, state: JobState) -> None:
    """Claim the job and record its run as ``state``."""
    claimed, _ = storage.record_and_claim("w1", [], 10, T0, T0 + 30)
    run = next(job for job in claimed if job.id == job_id)
    outcome = Outcome(job_id, run.runs, state, T0 + 1, exit_code=0 if state is
                      JobState.COMPLETED else 3, error=None if state is JobState.COMPLETED
                      else "exit code 3")
    storage.record_and_claim("w1", [outcome], 0, T0 + 1, T0 + 31)
    for other in claimed:  # give back what else was claimed
        if other.id != job_id:
            storage.release("w1", [(other.id, other.runs)], T0 + 1, started=False)


def test_restart_makes_a_numbered_copy_that_remembers_its_original(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "echo a", 2, cwd="/tmp", env={"K": "v"}, timeout=5.0,
                            priority=3, queue="q", tags=("t",), unique_key="key")], T0)
    _finish(storage, "a", JobState.COMPLETED)
    [again] = storage.restart(["a"], T0 + 2)
    assert again.id == "1" and again.restarted_from == "a"
    stored = storage.get("1")
    assert stored is not None and stored.restarted_from == "a"
    assert (stored.state, stored.attempts, stored.command, stored.env, stored.timeout) == (
        JobState.PENDING, 0, "echo a", {"K": "v"}, 5.0)
    assert (stored.priority, stored.queue, stored.tags, stored.unique_key) == (
        3, "q", ("t",), "key")
    # the key is live again: a second restart is refused, naming the holder, and stores nothing
    with pytest.raises(InvalidTransition, match="which live job '1' holds already"):
        storage.restart(["a"], T0 + 3)
    assert storage.get("2") is None


def test_restart_refuses_unfinished_or_missing_jobs_and_changes_nothing(
    storage: Storage
) -> None:
    storage.enqueue([NewJob("done", "true", 0), NewJob("waiting", "true", 0)], T0)
    _finish(storage, "done", JobState.COMPLETED)
    with pytest.raises(InvalidTransition, match="'waiting' is pending"):
        storage.restart(["done", "waiting"], T0)
    with pytest.raises(JobNotFound):
        storage.restart(["done", "nosuch"], T0)
    assert [job.id for job in storage.list_jobs(None, 10)] == ["waiting", "done"]


def test_remove_deletes_waiting_and_finished_jobs_but_not_running_ones(
    storage: Storage
) -> None:
    storage.enqueue([NewJob("run", "true", 0), NewJob("wait", "true", 0)], T0)
    claimed, _ = storage.record_and_claim("w1", [], 1, T0, T0 + 30)
    assert [job.id for job in claimed] == ["run"]
    with pytest.raises(InvalidTransition, match="'run' is processing"):
        storage.remove(["wait", "run"])
    assert storage.get("wait") is not None
    assert storage.remove(["wait"]) == ["wait"]
    assert storage.get("wait") is None and storage.attempts("wait") == []


def test_remove_refuses_a_job_a_live_job_waits_on_unless_both_go(storage: Storage) -> None:
    storage.enqueue([NewJob("base", "true", 0)], T0)
    storage.enqueue([NewJob("after", "true", 0, depends_on=("base",))], T0)
    with pytest.raises(InvalidTransition, match="'after' waits on it"):
        storage.remove(["base"])
    assert storage.remove(["base", "after"]) == ["base", "after"]
    assert storage.list_jobs(None, 10) == []


def test_edit_changes_a_pending_job_and_refuses_a_finished_one(storage: Storage) -> None:
    storage.enqueue([NewJob("e", "old", 1), NewJob("f", "true", 0)], T0)
    new = NewJob(NUMBERED, "new", 4, priority=9, queue="fast", timeout=2.5,
                 fatal_exit_codes=(3, 4), retry_on_timeout=False, backoff_base=3.0,
                 backoff_max=60.0, jitter=0.1)
    edited = storage.edit("e", new, T0 + 100, T0 + 1)
    assert (edited.id, edited.command, edited.max_retries, edited.priority, edited.queue) == (
        "e", "new", 4, 9, "fast")
    assert (edited.timeout, edited.fatal_exit_codes, edited.retry_on_timeout) == (
        2.5, (3, 4), False)
    assert (edited.backoff_base, edited.backoff_max, edited.jitter, edited.run_at) == (
        3.0, 60.0, 0.1, T0 + 100)
    assert storage.get("e") == edited
    _finish(storage, "f", JobState.COMPLETED)
    with pytest.raises(InvalidTransition, match="'f' is completed"):
        storage.edit("f", new, T0, T0)
