"""Storage contract: per-job run rules, cancel requests and output streamed while a job runs."""

from __future__ import annotations

import os

import pytest

from queuectl.errors import InvalidTransition, JobNotFound
from queuectl.hosts import HOST
from queuectl.models import JobState, NewJob, Outcome
from queuectl.storage import Storage
from queuectl.storage.base import CheckIn, OutputChunk, WorkerRegistration

from .conftest import stored

T0 = 1_767_225_600.0


def test_run_rules_are_stored_with_the_job(storage: Storage) -> None:
    storage.enqueue([NewJob("r", "x", 1, fatal_exit_codes=(2, 64), retry_on_timeout=False,
                            output_limit=4096), NewJob("plain", "y", 1)], T0)
    rules = storage.get("r")
    assert rules is not None
    assert (rules.fatal_exit_codes, rules.retry_on_timeout, rules.output_limit) == (
        (2, 64), False, 4096)
    plain = storage.get("plain")
    assert plain is not None
    assert (plain.fatal_exit_codes, plain.retry_on_timeout, plain.output_limit,
            plain.cancel_requested) == ((), True, None, False)


def test_cancel_ends_waiting_jobs_and_asks_the_holder_of_running_ones(storage: Storage) -> None:
    storage.register_worker(WorkerRegistration("w", HOST, os.getpid(), None, 1), T0)
    storage.enqueue([NewJob("run", "x", 0), NewJob("wait", "y", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)
    running, waiting = storage.cancel(["run", "wait"], T0 + 1)
    assert (waiting.state, running.state, running.cancel_requested) == (
        JobState.CANCELED, JobState.PROCESSING, True)
    assert storage.heartbeat("w", T0 + 2, T0 + 32) == CheckIn(True, None, [("run", 1)])
    [retried] = storage.retry(["wait"], T0 + 3, include_canceled=True)
    assert retried.state == JobState.PENDING and not retried.cancel_requested


def test_cancel_is_all_or_nothing(storage: Storage) -> None:
    storage.enqueue([NewJob("a", "x", 0), NewJob("done", "y", 0)], T0)
    storage.record_and_claim("w", [], 2, T0, T0 + 30)
    storage.record_and_claim("w", [Outcome("done", 1, JobState.COMPLETED, T0, exit_code=0)], 0,
                             T0, T0)
    with pytest.raises(InvalidTransition, match="completed"):
        storage.cancel(["a", "done"], T0 + 1)
    with pytest.raises(JobNotFound):
        storage.cancel(["a", "nope"], T0 + 1)
    assert stored(storage, "a").cancel_requested is False


def test_streamed_output_shows_while_running_and_folds_into_the_attempt(
    storage: Storage,
) -> None:
    storage.enqueue([NewJob("s", "x", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)
    storage.append_output("w", [OutputChunk("s", 1, 0, b"hel"), OutputChunk("s", 1, 3, b"lo ")])
    storage.append_output("w", [OutputChunk("s", 1, 3, b"lo ")])  # repeated: ignored
    storage.append_output("intruder", [OutputChunk("s", 1, 6, b"evil")])  # fenced
    assert storage.attempts("s")[0].output == b"hello "
    done = Outcome("s", 1, JobState.COMPLETED, T0 + 1, exit_code=0, output=b"hello world",
                   streamed=True)
    storage.record_and_claim("w", [done], 0, T0 + 1, T0 + 1)
    assert storage.attempts("s")[0].output == b"hello world"
