"""The states of a job and the moves between them. No I/O here."""

from __future__ import annotations

from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


class JobState(str, Enum):
    """Where a job is in its life.

    pending     waiting for its first run, or put back by ``dlq retry`` or a forced stop.
                -> processing (a worker claims it)
    processing  a worker holds it under a lease and is running its command.
                -> completed (exit 0), failed (retries left), dead (none left, or a fatal
                   exit code), canceled (a person canceled it: its process group is killed),
                -> pending or failed (forced stop: the attempt is given back)
    failed      the last attempt failed; claimable again once ``run_at`` has come.
                -> processing
    completed   the command exited 0. Terminal.
    dead        retries ran out; the job sits in the dead letter queue. Terminal until a
                person retries it -> pending (attempts reset to 0, history kept).
    canceled    a person canceled it. Terminal until retried (``queuectl retry``) -> pending.
    """

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    DEAD = "dead"
    CANCELED = "canceled"

    @classmethod
    def parse(cls, text: str) -> JobState:
        from .errors import InvalidInput

        if not isinstance(text, str):  # a JobState is a str too
            raise InvalidInput(f"state: expected a state name, got {type(text).__name__}")
        try:
            return cls(text.strip().lower())
        except ValueError:
            valid = ", ".join(state.value for state in cls)
            raise InvalidInput(f"unknown state {text!r}; valid states: {valid}") from None


class UnknownState(str):
    """A state no queuectl writes, as a row edited by hand may hold it (``'bogus'``), kept as
    stored so that ``list`` and ``show`` can show it. It has a ``value`` like a ``JobState``
    but is none: no ``is JobState.X`` test holds for it, so no rule of the queue moves it."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)


# The states as stored: a row edited by hand may hold another (see UnknownState).
STATE_VALUES = frozenset(state.value for state in JobState)
TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.DEAD, JobState.CANCELED})


def paused_jobs(job_ids: Sequence[str]) -> str:
    """What ends the processing jobs ``job_ids`` stopped by ``queuectl pause``, after "waits
    for": a graceful stop (``worker stop``, the worker's own line) and a burst worker wait for
    them, which would look hung unless they say so, in these words:

    >>> paused_jobs(["encode"])[:58]
    'paused job encode: it ends only once resumed (queuectl res'
    >>> paused_jobs(["a", "b"])[:56]
    'paused jobs a, b: each ends only once resumed (queuectl '
    """
    if len(job_ids) == 1:
        return (f"paused job {job_ids[0]}: it ends only once resumed (queuectl resume"
                f" {job_ids[0]}), or is put back by queuectl worker stop --now")
    return (f"paused jobs {', '.join(job_ids)}: each ends only once resumed (queuectl resume"
            f" ID), or is put back by queuectl worker stop --now")
