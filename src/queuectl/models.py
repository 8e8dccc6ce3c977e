"""The values queuectl passes around: jobs, attempts, workers, queues. No I/O here.

Timestamps are POSIX seconds (UTC); ``to_dict`` renders them as ISO 8601 with ``Z``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .jobspec.newjob import DEFAULT_QUEUE, Enqueued, NewJob
from .states import TERMINAL_STATES, JobState, UnknownState
from .units import format_timestamp

# Defined in modules of their own, which the enqueue path imports without this one.
__all__ = [
    "DEFAULT_QUEUE", "EDITABLE", "TERMINAL_STATES", "Attempt", "DeadRetry", "Enqueued", "Job",
    "JobState",
    "NewJob", "Outcome", "QueueInfo", "QueueStatus", "RunOutput", "WorkerInfo",
    "WorkerList",
]


# What decides what a waiting job runs, where, when and how often, which ``queuectl edit``
# may change: the command, its place in the queue, its time, its retry settings. (Its id,
# history, folder and environment stay.)
EDITABLE = ("command", "priority", "queue", "run_at", "max_retries", "timeout",
            "retry_on_timeout", "fatal_exit_codes", "backoff_base", "backoff_max", "jitter")


@dataclass(frozen=True)
class Job:
    """A stored job.

    ``attempts`` counts the runs since the job was enqueued or last retried by a person (it is
    what ``max_retries`` is measured against); ``runs`` counts every run ever started and
    numbers the attempt history, so it never goes back and fences stale workers.
    """

    id: str
    command: str
    state: JobState | UnknownState  # UnknownState: only in an unreadable row
    attempts: int
    max_retries: int
    created_at: float
    updated_at: float
    run_at: float
    runs: int = 0
    priority: int = 0
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    timeout: float | None = None
    exit_code: int | None = None
    last_error: str | None = None
    worker_id: str | None = None
    lease_until: float | None = None
    fatal_exit_codes: tuple[int, ...] = ()
    retry_on_timeout: bool = True
    output_limit: int | None = None
    cancel_requested: bool = False
    queue: str = DEFAULT_QUEUE
    unique_key: str | None = None
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    waiting_on: int = 0  # dependencies not completed yet
    backoff_base: float | None = None
    backoff_max: float | None = None
    jitter: float | None = None
    restarted_from: str | None = None  # the job this one runs again (queuectl restart)
    signal_request: str | None = None  # a signal its worker is to send (queuectl kill, ...)
    paused_run: int | None = None  # the run that queuectl pause stopped
    on_finish: str | None = None  # completion hook: a command (see worker/hooks.py)
    webhook: str | None = None  # completion hook: a URL the job's JSON is POSTed to
    hook_run: int | None = None  # the run whose hooks were taken to run
    hook_result: str | None = None  # what the hooks did, as JSON
    # Not stored: set on the job an enqueue returns when its unique_key matched a live job,
    # which is returned instead of a new one (nothing was created).
    unique_conflict: bool = field(default=False, compare=False)
    # Not stored: why the row could not be read whole, when it was edited by hand into values
    # queuectl never writes ("env is not JSON: '{bad'"); the fields it names hold what could
    # be shown (see storage/rows.py). None for every row queuectl wrote.
    unreadable: str | None = field(default=None, compare=False)

    @property
    def paused(self) -> bool:
        """Whether the job runs, stopped by ``queuectl pause`` (its worker keeps its lease)."""
        return self.state is JobState.PROCESSING and self.paused_run == self.runs

    @property
    def current_error(self) -> str | None:
        """The error the job is in: ``last_error`` while the job is failed (to be retried
        after it) or dead (ended by it), else None. A job pending or processing again (retried
        by hand, or after a forced stop) is in no error: the earlier one is history, kept by
        its attempt. What ``list``, ``show``, the JSON and the dashboard say."""
        return self.last_error if self.state in (JobState.FAILED, JobState.DEAD) else None

    @property
    def current_exit_code(self) -> int | None:
        """The exit code of the run that left the job in its state: ``exit_code`` while the
        job is completed, failed or dead, else None. A job pending or processing again (a
        retry, by hand or by its policy) or canceled did not end by that run: its exit code is
        history, kept by its attempt. What ``show``, the JSON and the dashboard say."""
        ended = (JobState.COMPLETED, JobState.FAILED, JobState.DEAD)
        return self.exit_code if self.state in ended else None

    def editable(self) -> dict[str, Any]:
        """The fields ``Queue.edit`` may change (``EDITABLE``), as JSON values in the form an
        enqueue accepts them: what ``queuectl edit`` opens in $EDITOR."""
        return {
            "command": self.command, "priority": self.priority, "queue": self.queue,
            "run_at": format_timestamp(self.run_at), "max_retries": self.max_retries,
            "timeout": self.timeout, "retry_on_timeout": self.retry_on_timeout,
            "fatal_exit_codes": list(self.fatal_exit_codes), "backoff_base": self.backoff_base,
            "backoff_max": self.backoff_max, "jitter": self.jitter,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "command": self.command,
            "state": self.state.value,
            "attempts": self.attempts,
            "max_retries": self.max_retries,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "run_at": format_timestamp(self.run_at),
            "runs": self.runs,
            "priority": self.priority,
            "exit_code": self.current_exit_code,
            "last_error": self.current_error,
            "cwd": self.cwd,
            "env": dict(self.env) if self.env else None,
            "timeout": self.timeout,
            "worker_id": self.worker_id,
            "lease_until": format_timestamp(self.lease_until),
            "fatal_exit_codes": list(self.fatal_exit_codes),
            "retry_on_timeout": self.retry_on_timeout,
            "output_limit": self.output_limit,
            "cancel_requested": self.cancel_requested,
            "queue": self.queue,
            "unique_key": self.unique_key,
            "tags": list(self.tags),
            "depends_on": list(self.depends_on),
            "waiting_on": self.waiting_on,
            "backoff_base": self.backoff_base,
            "backoff_max": self.backoff_max,
            "jitter": self.jitter,
            "restarted_from": self.restarted_from,
            "paused": self.paused,
            "on_finish": self.on_finish,
            "webhook": self.webhook,
            "hook": json.loads(self.hook_result) if self.hook_result else None,
            # Only a row that could not be read whole has this key (see ``unreadable``).
            **({"unreadable": self.unreadable} if self.unreadable else {}),
        }


@dataclass(frozen=True)
class Attempt:
    """One run of a job, numbered by ``Job.runs``. ``finished_at`` is None while it runs."""

    job_id: str
    number: int
    worker_id: str
    started_at: float
    finished_at: float | None = None
    exit_code: int | None = None
    error: str | None = None
    output: bytes = b""
    output_dropped: int = 0

    @property
    def text(self) -> str:
        """The output as text: UTF-8, each invalid byte shown as U+FFFD (a job may print
        anything; ``output`` keeps the bytes exactly)."""
        return self.output.decode("utf-8", "replace")

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None while the attempt runs."""
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "worker_id": self.worker_id,
            "started_at": format_timestamp(self.started_at),
            "finished_at": format_timestamp(self.finished_at),
            "exit_code": self.exit_code,
            "error": self.error,
            "output": self.text,
            "output_dropped": self.output_dropped,
        }



@dataclass(frozen=True)
class RunOutput:
    """The bytes of one run's output from byte ``start`` to the end (``size`` bytes stored so
    far), as a follower of a live log reads them: only what it has not seen yet.

    Asked from offset 10 with ``most=4`` of 100 bytes: ``start`` 96, ``data`` bytes 96-99.
    """

    job_id: str
    number: int
    finished: bool  # the run ended: its output is complete
    dropped: int  # bytes past the run's output limit, not kept
    size: int
    start: int
    data: bytes

@dataclass(frozen=True)
class Outcome:
    """What a worker records at the end of an attempt.

    ``state`` is completed, failed (with ``run_at`` for the retry) or dead. Storage applies
    it only while the job is still held by the same worker in the same run (``attempt`` is the
    run number): that is the fence against stale workers.
    """

    job_id: str
    attempt: int
    state: JobState
    finished_at: float
    run_at: float | None = None
    exit_code: int | None = None
    error: str | None = None
    output: bytes = b""
    output_dropped: int = 0
    streamed: bool = False  # part of the output was stored while the run went on
    started_at: float | None = None  # when the run started, if not when it was claimed
    # The job as the worker claimed it: its queue, enqueue and claim times let storage count
    # a batch of runs at once (storage/run_counts.py) instead of a trigger a run at a time.
    job: Job | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    slots: int
    started_at: float
    heartbeat_at: float
    running: int
    stop_requested: str | None = None
    slots_wanted: int | None = None  # queuectl parallel asked for this many; not applied yet
    # Its process's start marker (hosts.start_marker): on its own host, tells it from another
    # process that got the same pid since. Not shown: it means nothing to a person.
    pid_started: str | None = None
    # Whether it is the one worker that does the store's housekeeping (schedule ticks,
    # retention, rescuing expired leases), by the rule its heartbeat applies.
    housekeeper: bool = False
    state: str = "running"  # running, stopping or lost

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "slots": self.slots,
            "slots_wanted": self.slots_wanted,
            "state": self.state,
            "housekeeper": self.housekeeper,
            "running": self.running,
            "started_at": format_timestamp(self.started_at),
            "heartbeat_at": format_timestamp(self.heartbeat_at),
        }


@dataclass(frozen=True)
class WorkerList:
    """The registered workers and the settings refused (stored by hand), read together: with
    ``lease_duration`` among those, the workers were judged running or lost by the default
    lease. What ``worker list``, ``status --watch`` and the dashboard's pages show."""

    workers: Sequence[WorkerInfo]
    # Each setting config set would refuse, with why (as in QueueStatus).
    refused_settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadRetry:
    """What retrying every dead job (``dlq retry --all``, or ``--tag``) did: the jobs back
    to pending, and those asked for that are dead still, each with why: a live job holds its
    unique key (it was not retried), or it died again at once (a dependency dead or
    canceled), its error then."""

    retried: Sequence[str]
    left: Sequence[tuple[str, str]] = ()  # (job id, why)


@dataclass(frozen=True)
class QueueInfo:
    """A named queue: its jobs per state, whether it is paused, and its concurrency limit."""

    name: str
    counts: Mapping[JobState, int]
    paused: bool = False
    limit: int | None = None  # at most this many of its jobs run at once, across all workers

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "paused": self.paused, "limit": self.limit,
                "jobs": {state.value: self.counts.get(state, 0) for state in JobState}}


@dataclass(frozen=True)
class QueueStatus:
    """What ``queuectl status`` shows and ``/api/status`` returns: jobs per state, what pending
    jobs wait for (``ready``, ``scheduled``, ``blocked``), the workers, and the database."""

    database: str  # without a password
    counts: Mapping[JobState, int]
    pending: Mapping[str, int]
    workers: Sequence[WorkerInfo]
    paused: int = 0  # processing jobs stopped by queuectl pause
    # Settings stored by hand that config set refuses, each with why; the workers were judged
    # by the default lease if lease_duration is one of them.
    refused_settings: Mapping[str, str] = field(default_factory=dict)
    # Pending jobs in paused queues (queuectl queue pause), which no worker takes, ready or not.
    in_paused_queues: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "jobs": {state.value: count for state, count in self.counts.items()},
            "pending": dict(self.pending),
            "paused": self.paused,
            "in_paused_queues": self.in_paused_queues,
            "workers": [worker.to_dict() for worker in self.workers],
            "refused_settings": dict(self.refused_settings),
        }
