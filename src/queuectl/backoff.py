"""Retrying: what happens to a job after an attempt ends, and how long a worker waits before
it tries its database again after an error."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import TYPE_CHECKING

from .config import Settings
from .models import Job, JobState, Outcome

if TYPE_CHECKING:
    from queuectl.process.runner import RunResult


def retry_delay(failed_attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``failed_attempts``-th failure: ``base ** k``, capped.

    With base 2 and a cap of 1h the waits are 2, 4, 8, 16, ... 2048, then 3600 forever:

    >>> [retry_delay(k, 2.0, 3600.0) for k in (1, 2, 3, 11, 12)]
    [2.0, 4.0, 8.0, 2048.0, 3600.0]
    """
    if base <= 1.0:
        return min(1.0, cap) if base == 1.0 else 0.0
    # Compare in log space: 2.0 ** 5000 would overflow a float.
    if failed_attempts * math.log(base) >= math.log(cap):
        return cap
    try:
        return float(base**failed_attempts)
    except OverflowError:  # no cap to stop it (an infinite one, by hand): no time to wait
        return math.inf


def state_after_failure(
    job: Job, now: float, base: float, cap: float, jitter: float = 0.0,
    rand: float | None = None,
) -> tuple[JobState, float]:
    """``(failed, retry time)`` while retries are left, else ``(dead, now)``.

    ``job.attempts`` counts executions started, this one included; ``max_retries`` counts the
    runs after the first, so a job with ``max_retries = 3`` runs at most 4 times. ``jitter``
    spreads the wait by up to that fraction either way (0.1: 8 s becomes 7.2 to 8.8 s), so
    that jobs that failed together do not all come back at once; ``rand`` (0 to 1) is the
    draw, for tests.
    """
    if job.attempts > job.max_retries:
        return JobState.DEAD, now
    delay = retry_delay(job.attempts, base, cap)
    if jitter:
        draw = random.random() if rand is None else rand
        delay *= 1.0 + jitter * (2.0 * draw - 1.0)
    return JobState.FAILED, now + delay


def outcome_of_failure(
    job: Job,
    now: float,
    settings: Settings,
    error: str,
    *,
    exit_code: int | None = None,
    output: bytes = b"",
    output_dropped: int = 0,
    streamed: bool = False,
    retryable: bool = True,
) -> Outcome:
    """The outcome of a failed run of ``job`` (its run number is ``job.runs``).

    A job that a person asked to cancel ends canceled; a failure that must not be retried
    (a fatal exit code, a timeout with ``retry_on_timeout`` off) goes straight to dead.
    """
    if job.cancel_requested:
        state, run_at = JobState.CANCELED, now
    elif retryable:
        # A job's own retry policy (enqueue fields) wins over the configured one.
        base = settings.backoff_base if job.backoff_base is None else job.backoff_base
        cap = settings.backoff_max if job.backoff_max is None else job.backoff_max
        try:
            unbounded = job.attempts <= job.max_retries and _unbounded_setting(job, base, cap)
            if unbounded:
                # Only by hand (enqueue and config refuse it): a cap of zero, a jitter of 5 or
                # inf, a NaN base give no retry time, or one before now or past year 9999.
                state, run_at = JobState.DEAD, now
                error = f"{error}; unreadable row: no retry time ({unbounded})"
            else:
                state, run_at = state_after_failure(job, now, base, cap, job.jitter or 0.0)
        except TypeError:  # text in a number, by hand (SQLite): the run's result would be lost
            state, run_at = JobState.DEAD, now
            error = f"{error}; unreadable row: {_retry_problem(job)}"
    else:
        state, run_at = JobState.DEAD, now
    return Outcome(
        job_id=job.id, attempt=job.runs, state=state, finished_at=now, run_at=run_at,
        exit_code=exit_code, error=error, output=output, output_dropped=output_dropped,
        streamed=streamed, job=job,
    )


def _retry_problem(job: Job) -> str:
    """Which of ``job``'s fields is not of its type (only a row edited by hand has one), in
    the words ``show`` uses: ``max_retries is not a whole number: 'x'``."""
    from .unreadable import readable

    return readable(job).unreadable or "a retry setting is not a number"


def _unbounded_setting(job: Job, base: float, cap: float) -> str | None:
    """Which retry setting that is a number lies past the bounds enqueue keeps it in, in
    enqueue's words ('jitter: must be between 0 and 1, got 5'); None if none does. Text is
    left to ``_retry_problem``."""
    from .errors import InvalidInput
    from .jobspec import fields
    from .jobspec.text import shown
    from .units import is_number

    # The run just ended is counted (claims add it): fewer, the wait (base ** attempts) is
    # none, and a count of -2**63 would have the job fail again at once for ever.
    attempts = job.attempts
    if is_number(attempts) and not (isinstance(attempts, int) and attempts >= 1):
        return f"attempts: must be a whole number, at least 1 after a run, got {shown(attempts)}"
    for value, check in ((job.max_retries, fields.max_retries), (base, fields.backoff_base),
                         (cap, fields.backoff_max), (job.jitter, fields.jitter)):
        if is_number(value):
            try:
                check(value)
            except InvalidInput as exc:
                return str(exc)
    return None


def outcome_of_run(
    job: Job, result: RunResult, finished_at: float, settings: Settings, *, canceled: bool
) -> Outcome:
    """The outcome of a run of ``job`` that ended with ``result``.

    ``canceled``: the run was killed because a person canceled the job. A timeout with
    ``retry_on_timeout`` off, or one of the job's ``fatal_exit_codes``, is not retried.
    """
    if result.succeeded:
        return Outcome(job.id, job.runs, JobState.COMPLETED, finished_at,
                       exit_code=result.exit_code, output=result.output,
                       output_dropped=result.output_dropped, streamed=result.streamed, job=job)
    error = result.error or "failed"
    retryable = True
    if canceled:
        job, error = replace(job, cancel_requested=True), "canceled on request"
    elif result.timed_out and not job.retry_on_timeout:
        error, retryable = f"{error} (not retried: retry_on_timeout is off)", False
    elif result.exit_code in job.fatal_exit_codes:
        error, retryable = f"{error} (fatal exit code: not retried)", False
    return outcome_of_failure(
        job, finished_at, settings, error, exit_code=result.exit_code, output=result.output,
        output_dropped=result.output_dropped, streamed=result.streamed, retryable=retryable,
    )


class ErrorBackoff:
    """How long to wait before trying again after consecutive errors: doubling, capped, and
    back to the start after a success.

    >>> backoff = ErrorBackoff(first=0.25, cap=2.0)
    >>> [backoff.failed() for _ in range(5)]
    [0.25, 0.5, 1.0, 2.0, 2.0]
    >>> backoff.succeeded(); backoff.failed()
    0.25
    """

    def __init__(self, first: float = 0.25, cap: float = 15.0) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0  # in a row

    def failed(self) -> float:
        """Count one more error; returns the seconds to wait before the next try."""
        self.failures += 1
        return retry_delay(self.failures - 1, 2.0, self.cap / self.first) * self.first

    def succeeded(self) -> None:
        self.failures = 0
