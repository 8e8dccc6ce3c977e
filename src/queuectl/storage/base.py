"""The storage contract every backend fulfils.

The library above speaks only these verbs; SQL and drivers stay below them. Every write is
one transaction, and every write for a claimed run is fenced by ``(job id, run number,
worker id)`` so that a stale worker can never overwrite a newer run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..listing import JobPage, JobQuery, JobRun, RunningJob
from ..models import (
    Attempt,
    Enqueued,
    Job,
    JobState,
    NewJob,
    Outcome,
    QueueInfo,
    WorkerInfo,
)
from ..recurring import Schedule
from ..stats import FinishedRun


@dataclass(frozen=True)
class WorkerRegistration:
    id: str
    host: str
    pid: int
    pid_started: str | None
    slots: int


@dataclass(frozen=True)
class LocalWorker:
    id: str
    pid: int
    pid_started: str | None


INTERRUPTED = "interrupted by a forced stop (not counted as an attempt)"


@dataclass(frozen=True)
class CheckIn:
    """What a heartbeat tells a worker."""

    registered: bool  # False if the registration was removed: register again
    stop_requested: str | None  # None, "graceful" or "now"
    cancel_requested: list[tuple[str, int]]  # (job id, run) of held jobs to kill


@dataclass(frozen=True)
class OutputChunk:
    """Output of a run still going, ``offset`` bytes into it."""

    job_id: str
    attempt: int
    offset: int
    data: bytes


class WakeChannel(Protocol):
    """Something an idle worker can wait on (``fileno``) to hear of new work."""

    def fileno(self) -> int: ...

    def drain(self) -> bool:
        """Consume pending wake-ups; True if one of them asked the worker to check for a stop."""
        ...

    def close(self) -> None: ...


class Storage(Protocol):
    url: str

    def close(self) -> None: ...

    # jobs
    def enqueue(self, jobs: Sequence[NewJob], now: float) -> list[Job]: ...

    def enqueue_ids(self, jobs: Sequence[NewJob], now: float) -> Enqueued:
        """``enqueue``, returning only the ids: no ``Job`` is built (bulk enqueues)."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def list_jobs(self, state: JobState | None, limit: int, offset: int = 0, *,
                  tag: str | None = None) -> list[Job]: ...

    def count_by_state(self) -> dict[JobState, int]: ...

    def attempts(self, job_id: str) -> list[Attempt]: ...

    def retry(self, job_ids: Sequence[str], now: float, *, include_canceled: bool) -> list[Job]:
        """Put dead (and, if asked, canceled) jobs back to pending, all or nothing."""
        ...

    def retry_all_dead(self, now: float, *, tag: str | None = None) -> list[str]:
        """Retry every dead job (with ``tag``, if given); one whose unique_key a live job
        holds stays dead, and one whose dependency is still dead or canceled dies again."""
        ...

    # workers
    def record_and_claim(
        self,
        worker_id: str,
        outcomes: Sequence[Outcome],
        limit: int,
        now: float,
        lease_until: float,
        queues: Sequence[str] | None = None,
    ) -> tuple[list[Job], list[Outcome]]:
        """Record finished runs and claim up to ``limit`` ready jobs in one transaction.

        Ready: pending or failed, ``run_at`` come, every dependency completed, in one of
        ``queues`` (None: any), its queue not paused and below its concurrency limit.

        Returns the claimed jobs (best first) and the outcomes refused by the fence. A job
        must not start before this returns: a worker killed between starting it and the
        commit would leave it running while the database still says pending.
        """
        ...

    def release(
        self, worker_id: str, held: Sequence[tuple[str, int]], now: float, *, started: bool
    ) -> None:
        """Give back held runs; they do not count as attempts.

        ``started``: the runs were killed by a forced stop, and their attempt rows stay, marked
        ``INTERRUPTED``. Otherwise the runs never started (claimed ahead, then handed back):
        the job returns exactly to where it was before the claim, with no trace.
        """
        ...

    def next_run_at(self) -> float | None: ...

    def register_worker(self, worker: WorkerRegistration, now: float) -> None: ...

    def unregister_worker(self, worker_id: str) -> None: ...

    def heartbeat(self, worker_id: str, now: float, lease_until: float) -> CheckIn:
        """Renew the worker's leases and tell it of stop and cancel requests."""
        ...

    def append_output(self, worker_id: str, chunks: Sequence[OutputChunk]) -> None:
        """Store output of runs still going (fenced: ignored for runs no longer held)."""
        ...

    def cancel(self, job_ids: Sequence[str], now: float) -> list[Job]:
        """Cancel waiting jobs at once; mark running ones for their worker to kill.

        All or nothing: a job that is missing or already finished raises and cancels none.
        """
        ...

    def workers(self) -> list[WorkerInfo]: ...

    def local_workers(self, host: str) -> list[LocalWorker]: ...

    def request_stop(self, worker_id: str | None, mode: str) -> list[str]: ...

    def rescue(
        self,
        now: float,
        decide: Callable[[Job], Outcome],
        *,
        worker_ids: Sequence[str] | None = None,
        forget_workers_before: float | None = None,
    ) -> list[Outcome]:
        """Fail the runs of lost workers, in one transaction.

        Without ``worker_ids``: every run whose lease has expired. With them: every run those
        (dead) workers hold, and their registrations are removed.
        """
        ...

    def wake_channel(self, worker_id: str) -> WakeChannel: ...

    def wake_workers(self, *, stop: bool = False) -> None: ...

    # config
    def config_items(self) -> dict[str, str]: ...

    def set_config(self, key: str, value: str | None) -> None: ...

    # -- reads for the dashboard, stats and status --watch -----------------------------------

    def search_jobs(
        self, query: JobQuery, limit: int, *, before: str | None = None, after: str | None = None
    ) -> JobPage:
        """Jobs newest first, by keyset: older than cursor ``before`` or newer than ``after``."""
        ...

    def running_jobs(self, limit: int) -> list[RunningJob]:
        """Jobs in state processing, longest running first."""
        ...

    def finished_runs(
        self, since: float, until: float, limit: int, after: tuple[float, str, int] | None = None
    ) -> list[FinishedRun]:
        """Runs that finished in ``[since, until)``, ordered by ``(finished_at, job id, run)``.

        ``after`` is the key of the last run of the previous page.
        """
        ...

    def latest_runs(self, job_ids: Sequence[str]) -> dict[str, JobRun]:
        """When the latest run of each job started and ended; jobs never run are left out."""
        ...

    # -- moving between stores (queuectl export / import) ---------------------------------

    def restore(self, settings: Mapping[str, str], jobs: Sequence[Job],
                attempts: Sequence[Attempt], schedules: Sequence[Schedule] = ()) -> None:
        """Store exported settings, schedules and jobs exactly as they were (states,
        counters, times) with their attempt history, in one transaction. An id stored
        already raises ``DuplicateJob`` and nothing is written."""
        ...

    def delete_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Delete finished jobs (completed, dead, canceled) with their history, all or nothing."""
        ...

    # -- scheduling: named queues, recurring schedules, retention (queuectl.scheduling) ----

    def pending_breakdown(self, now: float) -> dict[str, int]:
        """Pending jobs: all ("pending"), those waiting for their ``run_at`` ("scheduled") and
        those waiting for dependencies ("blocked"); one pass over pending jobs only."""
        ...

    def queues(self) -> list[QueueInfo]:
        """Every queue that has jobs or a setting, by name, with its jobs per state."""
        ...

    def set_queue_paused(self, name: str, paused: bool) -> None: ...

    def set_queue_limit(self, name: str, limit: int | None) -> None: ...

    def add_schedule(self, schedule: Schedule, now: float) -> bool:
        """Store a new schedule; False (nothing changed) if the name is taken."""
        ...

    def schedules(self) -> list[Schedule]: ...

    def get_schedule(self, name: str) -> Schedule | None: ...

    def remove_schedule(self, name: str) -> bool: ...

    def set_schedule_paused(self, name: str, paused: bool, next_run_at: float | None) -> bool:
        """Pause, or resume with the next tick at ``next_run_at``; False if no such schedule."""
        ...

    def due_schedules(self, now: float) -> list[Schedule]:
        """Schedules not paused whose ``next_run_at`` has come."""
        ...

    def next_schedule_at(self) -> float | None: ...

    def enqueue_tick(
        self, name: str, tick: float, next_run_at: float, job: NewJob | None, now: float
    ) -> Job | None:
        """In one transaction: move schedule ``name`` from ``tick`` to ``next_run_at`` (only if
        it is still at ``tick``: the tick key) and enqueue ``job``. None if the tick was taken
        already."""
        ...

    def purge_batch(
        self, state: JobState, before: float, limit: int, after_seq: int = 0
    ) -> tuple[int, int | None]:
        """Delete up to ``limit`` jobs in ``state`` updated before ``before`` (oldest first,
        after the cursor ``after_seq``) with their attempts and output, in one short
        transaction. Returns ``(deleted, cursor for the next batch or None at the end)``."""
        ...
