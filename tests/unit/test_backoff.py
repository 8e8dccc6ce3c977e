from __future__ import annotations

from dataclasses import replace

import pytest

from queuectl.backoff import outcome_of_failure, retry_delay, state_after_failure
from queuectl.config import Settings
from queuectl.models import Job, JobState


def job(attempts: int, max_retries: int = 3) -> Job:
    return Job(id="j", command="false", state=JobState.PROCESSING, attempts=attempts,
               max_retries=max_retries, created_at=0, updated_at=0, run_at=0, runs=attempts)


def test_delay_is_base_to_the_power_of_failed_attempts() -> None:
    assert [retry_delay(k, 2.0, 3600.0) for k in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(2, 3.0, 3600.0) == 9.0


def test_delay_is_capped_without_overflowing() -> None:
    assert retry_delay(12, 2.0, 3600.0) == 3600.0
    assert retry_delay(100_000, 2.0, 60.0) == 60.0


def test_base_one_waits_one_second() -> None:
    assert retry_delay(5, 1.0, 3600.0) == 1.0


def test_failed_while_retries_are_left_then_dead() -> None:
    now = 1000.0
    assert state_after_failure(job(1), now, 2.0, 3600.0) == (JobState.FAILED, 1002.0)
    assert state_after_failure(job(3), now, 2.0, 3600.0) == (JobState.FAILED, 1008.0)
    # The 4th run of a job with max_retries=3 was its last.
    assert state_after_failure(job(4), now, 2.0, 3600.0) == (JobState.DEAD, now)


def test_no_retries_means_straight_to_dead() -> None:
    assert state_after_failure(job(1, max_retries=0), 5.0, 2.0, 3600.0)[0] is JobState.DEAD


def test_outcome_of_failure_carries_the_run_number_and_error() -> None:
    outcome = outcome_of_failure(job(2), 100.0, Settings(), "exit code 1", exit_code=1)
    assert (outcome.attempt, outcome.state, outcome.run_at) == (2, JobState.FAILED, 104.0)
    assert outcome.error == "exit code 1"


INF = float("inf")


@pytest.mark.parametrize(("jitter", "backoff_max", "attempts", "problem"), [
    pytest.param(INF, None, 2, "jitter: expected a number, got inf", id="jitter-inf"),
    pytest.param(-INF, None, 2, "jitter: expected a number, got -inf", id="jitter-minus-inf"),
    pytest.param(1e300, None, 2, "jitter: must be between 0 and 1, got 1e+300",
                 id="jitter-past-year-9999"),
    pytest.param(None, INF, 200, "backoff_max: at most 100 years, got inf",
                 id="no-cap-overflows"),
])
def test_a_retry_setting_past_its_bounds_ends_the_job_dead_saying_which(
        jitter: float | None, backoff_max: float | None, attempts: int, problem: str) -> None:
    """Only a row edited by hand holds one (enqueue refuses it): the retry time it gives
    (an infinity, NaN, a time past year 9999) could not be stored or compared."""
    edited = replace(job(attempts, max_retries=1000), jitter=jitter, backoff_base=1000.0,
                     backoff_max=backoff_max)
    outcome = outcome_of_failure(edited, 100.0, Settings(), "exit code 1", exit_code=1)
    assert (outcome.state, outcome.run_at, outcome.error) == (
        JobState.DEAD, 100.0, f"exit code 1; unreadable row: no retry time ({problem})")
