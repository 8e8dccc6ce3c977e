"""Signals for running jobs and parallelism of running workers, on every backend: a request
waits in the row until the worker's check-in takes it, once."""

from __future__ import annotations

import os

import pytest

from queuectl.errors import InvalidTransition, JobNotFound
from queuectl.hosts import HOST
from queuectl.models import Job, JobState, NewJob, Outcome
from queuectl.storage import Storage
from queuectl.storage.base import WorkerRegistration

T0 = 1_767_225_600.0


def _running(storage: Storage, job_id: str = "j", worker: str = "w1") -> Job:
    storage.register_worker(WorkerRegistration(worker, HOST, os.getpid(), None, 2), T0)
    storage.enqueue([NewJob(job_id, "true", 3)], T0)
    [job] = storage.record_and_claim(worker, [], 1, T0, T0 + 30)[0]
    return job


def test_a_signal_is_handed_to_the_holder_once(storage: Storage) -> None:
    job = _running(storage)
    asked = storage.request_signal("j", "USR1")
    assert asked.signal_request == "USR1"
    check_in = storage.heartbeat("w1", T0 + 1, T0 + 31)
    assert check_in.signals == [("j", job.runs, "USR1")]
    assert storage.heartbeat("w1", T0 + 2, T0 + 32).signals == []
    assert storage.heartbeat("w2", T0 + 2, T0 + 32).signals == []  # another worker: nothing
    stored = storage.get("j")
    assert stored is not None and stored.signal_request is None and not stored.paused


def test_pause_and_resume_mark_the_run(storage: Storage) -> None:
    _running(storage)
    storage.request_signal("j", "STOP")
    storage.heartbeat("w1", T0 + 1, T0 + 31)
    paused = storage.get("j")
    assert paused is not None and paused.paused and storage.count_paused() == 1
    storage.request_signal("j", "CONT")
    storage.heartbeat("w1", T0 + 2, T0 + 32)
    resumed = storage.get("j")
    assert resumed is not None and not resumed.paused and storage.count_paused() == 0


def test_any_other_signal_ends_a_pause(storage: Storage) -> None:
    _running(storage)
    storage.request_signal("j", "STOP")
    storage.heartbeat("w1", T0 + 1, T0 + 31)
    storage.request_signal("j", "HUP")  # the worker continues the job after sending it
    storage.heartbeat("w1", T0 + 2, T0 + 32)
    job = storage.get("j")
    assert job is not None and not job.paused


def test_a_later_request_replaces_one_not_taken(storage: Storage) -> None:
    job = _running(storage)
    storage.request_signal("j", "STOP")
    storage.request_signal("j", "CONT")
    assert storage.heartbeat("w1", T0 + 1, T0 + 31).signals == [("j", job.runs, "CONT")]


def test_a_request_left_from_an_earlier_run_is_never_sent(storage: Storage) -> None:
    job = _running(storage)
    storage.request_signal("j", "TERM")
    # the run ends (fails) before its worker took the request; the next run must not get it
    storage.record_and_claim("w1", [Outcome("j", job.runs, JobState.FAILED, T0 + 1,
                                            run_at=T0 + 1, exit_code=1, error="exit code 1")],
                             1, T0 + 2, T0 + 32)
    again = storage.get("j")
    assert again is not None and again.runs == job.runs + 1 and again.state is JobState.PROCESSING
    assert storage.heartbeat("w1", T0 + 3, T0 + 33).signals == []


def test_only_a_running_job_can_be_signalled(storage: Storage) -> None:
    storage.enqueue([NewJob("waiting", "true", 0)], T0)
    with pytest.raises(InvalidTransition, match="'waiting' is pending"):
        storage.request_signal("waiting", "STOP")
    with pytest.raises(JobNotFound):
        storage.request_signal("nosuch", "STOP")


def test_parallelism_requests_reach_the_workers_asked(storage: Storage) -> None:
    for worker, host in (("w1", HOST), ("w2", HOST), ("w3", "elsewhere")):
        storage.register_worker(WorkerRegistration(worker, host, os.getpid(), None, 2), T0)
    assert storage.request_slots(5, host=HOST) == ["w1", "w2"]
    assert storage.request_slots(3, worker_id="w3") == ["w3"]
    assert storage.request_slots(3, worker_id="nosuch") == []
    assert storage.heartbeat("w1", T0 + 1, T0 + 31).slots_wanted == 5
    storage.set_worker_slots("w1", 5)
    assert storage.heartbeat("w1", T0 + 2, T0 + 32).slots_wanted is None
    workers = {w.id: (w.slots, w.slots_wanted) for w in storage.workers()}
    assert workers == {"w1": (5, None), "w2": (2, 5), "w3": (2, 3)}
    assert sorted(storage.request_slots(1)) == ["w1", "w2", "w3"]  # every host


def test_a_worker_of_another_pid_namespace_under_this_host_name_is_not_lost(
    storage: Storage,
) -> None:
    """A container with this host's name registers a pid of its own namespace: no process
    here may have it, yet the worker lives (its heartbeat says so)."""
    from queuectl.worker.control import worker_states

    unused_pid = 2**22 + 1  # above pid_max's default ceiling: no process of this host has it
    elsewhere = f"{unused_pid}:another-boot-id:pid:[4026531999]"
    storage.register_worker(WorkerRegistration("boxed", HOST, unused_pid, elsewhere, 1), T0)
    storage.register_worker(WorkerRegistration("gone", HOST, unused_pid, None, 1), T0)
    states = {w.id: w.state for w in worker_states(storage, lease=30, now=T0 + 1)}
    assert states == {"boxed": "running", "gone": "lost"}


def test_the_paused_jobs_of_workers_are_those_they_hold_paused(storage: Storage) -> None:
    """What worker stop tells it waits for: a query, where it listed up to 100,000 processing
    jobs to pick the paused ones (and missed those past them)."""
    for worker, job_id in (("w1", "b"), ("w1", "a"), ("w2", "c"), ("w3", "d")):
        _running(storage, job_id, worker)
    for job_id in ("a", "b", "c"):
        storage.request_signal(job_id, "STOP")
    for worker in ("w1", "w2", "w3"):
        storage.heartbeat(worker, T0 + 1, T0 + 31)
    assert storage.paused_jobs_of(["w1", "w3"]) == ["a", "b"]
    assert storage.paused_jobs_of(["w2"]) == ["c"]
    assert storage.paused_jobs_of(["w3", "nosuch"]) == []
    assert storage.paused_jobs_of([]) == []
    storage.request_signal("a", "CONT")
    storage.heartbeat("w1", T0 + 2, T0 + 32)
    assert storage.paused_jobs_of(["w1"]) == ["b"]
