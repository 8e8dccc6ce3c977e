"""The coordinator's backlog keeps every finished run's result, whatever goes wrong."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from queuectl.config import Settings
from queuectl.models import Job, JobState
from queuectl.process.runner import RunResult
from queuectl.worker.backlog import Backlog
from queuectl.worker.slots import Finished

JOB = Job(id="j", command="exit 3", state=JobState.PROCESSING, attempts=1, max_retries=3,
          created_at=0.0, updated_at=0.0, run_at=0.0, runs=1)


def test_a_run_whose_outcome_cannot_be_worked_out_is_recorded_dead(
        caplog: pytest.LogCaptureFixture) -> None:
    """A value no check foresaw (here a job built in code with no exit-code list) makes
    working out the outcome raise: the run is still owed to the database, dead, saying why,
    so that its job does not stay held with its result lost."""
    backlog = Backlog()
    broken = replace(JOB, fatal_exit_codes=None)  # type: ignore[arg-type]
    result = RunResult(3, "exit code 3", b"out\n", 0)
    with caplog.at_level(logging.ERROR, logger="queuectl.worker.loop"):
        backlog.take([Finished(broken, result, 50.0)], [], Settings(), forced_stop=False,
                     canceled=set())
    [outcome] = backlog.outcomes
    assert (outcome.job_id, outcome.attempt, outcome.state, outcome.finished_at) == (
        "j", 1, JobState.DEAD, 50.0)
    assert outcome.error == ("failed in the worker: TypeError: argument of type 'NoneType' "
                             "is not iterable")
    assert (outcome.exit_code, outcome.output) == (3, b"out\n")
    assert "job j run 1: failed in the worker: TypeError" in caplog.text


def test_a_run_is_recorded_as_it_ended_otherwise() -> None:
    backlog = Backlog()
    backlog.take([Finished(JOB, RunResult(3, "exit code 3", b"", 0), 50.0)], [],
                 Settings(), forced_stop=False, canceled=set())
    [outcome] = backlog.outcomes
    assert (outcome.state, outcome.run_at, outcome.error) == (
        JobState.FAILED, 52.0, "exit code 3")
