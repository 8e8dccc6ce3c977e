"""``Store``: the storage contract, written once over any driver.

The library above speaks only these verbs; SQL and drivers stay below them. Every write is
one transaction, and every write for a claimed run is fenced by ``(job id, run number,
worker id)`` so that a stale worker can never overwrite a newer run. Each verb lives in the
module of its concept (this class is their table of contents):

    enqueue.py    storing new jobs: the plain insert, unique keys, dependencies
    claims.py     the hot path: record finished runs and claim the next jobs
    workers.py    registration, heartbeats, release, streamed output, stop, rescue
    jobs.py       read, list, count, cancel, retry, delete
    changes.py    restart, remove and edit, as a person asks
    control.py    signals for running jobs, parallelism of running workers
    hooks.py      completion hooks due, taken and recorded
    reads.py      pages of jobs, running jobs, finished runs (dashboard, stats)
    queues.py     named queues: pause, limit, jobs per queue
    recurring.py  recurring schedules and their ticks
    retention.py  purging finished jobs
    restore.py    importing an export exactly as it was

Each but ``enqueue`` is imported when first used, so ``queuectl enqueue`` loads none of them;
``claims`` too, as finding a loaded module costs a worker's batch well under a microsecond.
"""

from __future__ import annotations

from ..jobspec.newjob import Enqueued, NewJob
from .driver import Conflict
from .enqueue import insert_job_ids, insert_jobs
from .idle import IdleWorkers

TYPE_CHECKING = False  # typing stays off the path of `queuectl enqueue`
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TypeVar

    from ..clock import Clock
    from ..listing import JobPage, JobQuery, JobRun, RunningJob
    from ..models import Attempt, Job, Outcome, QueueInfo, RunOutput, WorkerInfo
    from ..recurring import Schedule
    from ..rollups import HistogramRow, MinuteCounts
    from ..states import JobState
    from ..stats import FinishedRun
    from .base import CheckIn, LocalWorker, OutputChunk, WakeChannel, WorkerRegistration
    from .driver import Driver

    _T = TypeVar("_T")  # what an insert returns: Jobs or Enqueued


class Store:
    def __init__(self, driver: Driver) -> None:
        self.db = driver
        self.url = driver.url
        self._idle = IdleWorkers()  # targeted wake-ups: who is listed as idle

    def close(self) -> None:
        self.db.close()

    def clock(self) -> Clock:
        """The database's clock (PostgreSQL: the server's, read as this host's plus an offset):
        workers on several hosts write and compare leases by it."""
        return self.db.clock()

    def disconnect(self) -> None:
        """Let go of the database connection until the next call needs one again."""
        self.db.disconnect()

    # -- jobs ------------------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], now: float) -> list[Job]:
        """Store new jobs, all or nothing; a stored id raises ``DuplicateJob``."""
        return self._insert(lambda tx: insert_jobs(tx, jobs, now), jobs)

    def enqueue_ids(self, jobs: Sequence[NewJob], now: float) -> Enqueued:
        """``enqueue``, returning only the ids: no ``Job`` is built (bulk enqueues)."""
        return self._insert(lambda tx: insert_job_ids(tx, jobs, now), jobs)

    def _insert(self, insert: Callable[..., _T], jobs: Sequence[NewJob]) -> _T:
        try:
            return self.db.write(insert)
        except Conflict:
            from ..errors import DuplicateJob
            from .jobs import first_existing

            raise DuplicateJob(first_existing(self.db, [job.id for job in jobs])) from None

    def get(self, job_id: str) -> Job | None:
        from . import jobs

        return jobs.get(self.db, job_id)

    def list_jobs(self, state: JobState | None, limit: int, offset: int = 0, *,
                  tag: str | None = None) -> list[Job]:
        from . import jobs

        return jobs.list_jobs(self.db, state, limit, offset, tag)

    def count_by_state(self) -> dict[JobState, int]:
        from . import jobs

        return jobs.count_by_state(self.db)

    def attempts(self, job_id: str) -> list[Attempt]:
        from . import jobs

        return jobs.attempts(self.db, job_id)

    def run_output(self, job_id: str, number: int, offset: int = 0,
                   most: int | None = None) -> RunOutput | None:
        from . import jobs

        return jobs.run_output(self.db, job_id, number, offset, most)

    def cancel(self, job_ids: Sequence[str], now: float) -> list[Job]:
        """Cancel waiting jobs at once; mark running ones for their worker to kill.

        All or nothing: a job that is missing or already finished raises and cancels none.
        """
        from . import jobs

        return jobs.cancel(self.db, job_ids, now)

    def retry(self, job_ids: Sequence[str], now: float, *, include_canceled: bool) -> list[Job]:
        """Put dead (and, if asked, canceled) jobs back to pending, all or nothing."""
        from . import jobs

        return jobs.retry(self.db, job_ids, now, include_canceled=include_canceled)

    def bury_jobs_waiting_in_vain(self, now: float) -> list[tuple[str, str]]:
        """End dead the waiting jobs whose ``waiting_on`` is negative (a hand edit), or
        counts more dependencies not completed than they have (one removed before it
        completed, or a hand edit): no
        dependency would ever count them down to 0, and they waited for ever, silently, as
        ``redo_dependency_deaths`` kills a retried one. Their count is made right, so that a
        ``dlq retry`` runs them. Returns ``(job id, error)`` of each."""
        from . import jobs

        return jobs.bury_jobs_waiting_in_vain(self.db, now)

    def retry_all_dead(self, now: float, *, tag: str | None = None) -> list[str]:
        """Retry every dead job (with ``tag``, if given); one whose unique_key a live job
        holds stays dead, and one whose dependency is still dead or canceled dies again."""
        from . import jobs

        return jobs.retry_all_dead(self.db, now, tag)

    def delete_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Delete finished jobs (completed, dead, canceled) with their history, all or nothing."""
        from . import jobs

        return jobs.delete(self.db, job_ids)

    def restart(self, job_ids: Sequence[str], now: float) -> list[Job]:
        """New jobs that run finished ones again, all or nothing (see ``changes.restart``)."""
        from . import changes

        return changes.restart(self.db, job_ids, now)

    def remove(self, job_ids: Sequence[str]) -> list[str]:
        """Delete jobs that are not running, with their history, all or nothing."""
        from . import changes

        return changes.remove(self.db, job_ids)

    def edit(self, job_id: str, job: NewJob, run_at: float, now: float) -> Job:
        """Change a pending or failed job's editable fields (see ``changes.edit``)."""
        from . import changes

        return changes.edit(self.db, job_id, job, run_at, now)

    def request_signal(self, job_id: str, signal: str) -> Job:
        """A signal for the running job's process group, sent by its worker at once."""
        from . import control

        return control.request_signal(self.db, job_id, signal)

    def request_slots(self, slots: int, *, worker_id: str | None = None,
                      host: str | None = None) -> list[str]:
        """Workers (one, those of a host, or all) to run ``slots`` jobs at once; their ids."""
        from . import control

        return control.request_slots(self.db, slots, worker_id=worker_id, host=host)

    def hooks_due(self) -> bool:
        """Whether a finished job's completion hook waits to run."""
        from . import hooks

        return hooks.any_due(self.db)

    def take_due_hooks(self, limit: int) -> list[Job]:
        """Finished jobs whose hooks are due, each taken once for its last run."""
        from . import hooks

        return hooks.take_due(self.db, limit)

    def record_hook(self, job_id: str, result: str) -> None:
        """What a job's hooks did (JSON), shown with the job."""
        from . import hooks

        hooks.record(self.db, job_id, result)

    def count_paused(self) -> int:
        """Running jobs stopped by a pause."""
        row = self.db.read(lambda tx: tx.one("count_paused"))
        return int(row[0]) if row else 0

    def paused_jobs_of(self, worker_ids: Sequence[str]) -> list[str]:
        """The ids of the running jobs stopped by a pause that these workers hold, in order."""
        rows = self.db.read(
            lambda tx: tx.all("paused_jobs_of_workers", {"worker_ids": tx.array(worker_ids)}))
        return [row[0] for row in rows]

    def set_worker_slots(self, worker_id: str, slots: int) -> None:
        """A worker says it runs ``slots`` jobs at once now."""
        from . import control

        control.set_worker_slots(self.db, worker_id, slots)

    # -- workers ---------------------------------------------------------------------------

    def record_and_claim(
        self, worker_id: str, outcomes: Sequence[Outcome], limit: int, now: float,
        lease_until: float, queues: Sequence[str] | None = None,
    ) -> tuple[list[Job], list[Outcome]]:
        """Record finished runs and claim up to ``limit`` ready jobs in one transaction.

        Ready: pending or failed, ``run_at`` come, every dependency completed, in one of
        ``queues`` (None: any), its queue not paused and below its concurrency limit.

        Returns the claimed jobs (best first) and the outcomes refused by the fence. A job
        must not start before this returns: a worker killed between starting it and the
        commit would leave it running while the database still says pending.

        A claim that comes up short lists the worker as idle with the jobs it would take, so
        that a later enqueue wakes it (and only as many workers as its jobs need); one that
        fills ``limit`` takes it off that list (idle.py).
        """
        from .claims import record_and_claim  # here: an enqueue needs no claims (nor enum)

        claimed, stale, listed = record_and_claim(
            self.db, worker_id, outcomes, limit, now, lease_until, queues, self._idle)
        while listed and self.db.wakes_after_commit:
            # Listed as idle just now: a job committed meanwhile may have woken no one.
            more, _, listed = record_and_claim(
                self.db, worker_id, (), limit - len(claimed), now, lease_until, queues,
                self._idle)
            claimed += more
        return claimed, stale

    def release(self, worker_id: str, held: Sequence[tuple[str, int]], now: float, *,
                started: bool) -> int:
        """Give back held runs; they do not count as attempts. Returns how many were still
        this worker's to give back (the others were rescued meanwhile: the fence).

        ``started``: the runs were killed by a forced stop, and their attempt rows stay, marked
        ``INTERRUPTED``. Otherwise the runs never started (claimed ahead, then handed back):
        the job returns exactly to where it was before the claim, with no trace.
        """
        from . import workers

        return workers.release(self.db, worker_id, held, now, started=started)

    def next_run_at(self, queues: Sequence[str] | None = None,
                    pending_until: float | None = None) -> float | None:
        """The earliest ``run_at`` of the jobs a worker serving ``queues`` (None: all) could
        claim now or later: pending or failed, no dependency unmet, queue not paused.

        With ``pending_until``, pending jobs due after it are left out: only a retry (a failed
        job) keeps a burst worker waiting, not a job delayed on purpose.
        """
        from . import workers

        return workers.next_run_at(self.db, queues, pending_until)

    def jobs_come_due(self, since: float, now: float) -> tuple[int, float | None]:
        """How many jobs of any queue came due after ``since`` and by ``now`` (their delay or
        backoff ran out: claimable unless their queue is at its limit), and the ``run_at`` of
        the next one to come due after ``now`` (None: none waits)."""
        from . import workers

        return workers.jobs_come_due(self.db, since, now)

    def register_worker(self, worker: WorkerRegistration, now: float,
                        alive_since: float | None = None) -> None:
        """Register a worker (see ``workers.register``): ``WorkerIdTaken`` if another process
        holds the id with a heartbeat at or after ``alive_since``."""
        from . import workers

        workers.register(self.db, worker, now, alive_since)
        self._idle.registered(worker.id)

    def unregister_worker(self, worker_id: str, *, hand_over: bool = False) -> None:
        """Remove a worker's registration; ``hand_over``: it was the housekeeper, and every
        other worker checks in at once, so that the next one takes over without waiting for
        its heartbeat."""
        from . import workers

        workers.unregister(self.db, worker_id, hand_over=hand_over)

    def heartbeat(self, worker_id: str, now: float, lease_until: float, *,
                  holding: bool = True) -> CheckIn:
        """Renew the worker's leases and tell it of stop and cancel requests, whether it is
        the housekeeper, and the version of the stored settings. ``holding=False``: the
        worker holds no run, and nothing is asked about runs."""
        from . import workers

        return workers.heartbeat(self.db, worker_id, now, lease_until, holding=holding)

    def append_output(self, worker_id: str, chunks: Sequence[OutputChunk]) -> None:
        """Store output of runs still going (fenced: ignored for runs no longer held)."""
        from . import workers

        workers.append_output(self.db, worker_id, chunks)

    def workers(self, alive_since: float | None = None,
                alive_until: float | None = None) -> list[WorkerInfo]:
        """Registered workers; with ``alive_since`` and ``alive_until`` (now less and plus a
        lease), each says whether it is the housekeeper, by the rule the heartbeat applies."""
        from . import workers

        return workers.workers(self.db, alive_since, alive_until)

    def local_workers(self, host: str) -> list[LocalWorker]:
        from . import workers

        return workers.local_workers(self.db, host)

    def request_stop(self, worker_id: str | None, mode: str) -> list[str]:
        from . import workers

        return workers.request_stop(self.db, worker_id, mode)

    def rescue(self, now: float, decide: Callable[[Job], Outcome | None], *,
               worker_ids: Sequence[str] | None = None,
               forget_workers_before: float | None = None,
               forget_workers_after: float = float("inf"),
               lease: float | None = None) -> list[Outcome]:
        """Fail the runs of lost workers, in one transaction; returns the outcomes recorded.

        Without ``worker_ids``: every run whose lease has expired, unless (with ``lease``)
        the database server started less than ``lease`` seconds ago: its restart was an
        outage that held up every renewal. With ``lease`` also every run held by no live
        worker (none with a heartbeat within ``lease`` under its holder's id, or no holder)
        whose lease no heartbeat wrote (NULL, not a number, more than ``lease`` ahead): a
        hand edit's, which would wait for ever, the holder's fence unmatched. With them:
        every run those (dead) workers hold, and their registrations are removed. A run
        ``decide`` gives None never started: it is undone (as ``release`` with
        ``started=False``), no attempt spent. With ``forget_workers_before``, registrations
        whose heartbeat is not a time from then to ``forget_workers_after`` are forgotten.
        """
        from . import workers

        return workers.rescue(self.db, now, decide, worker_ids=worker_ids,
                              forget_workers_before=forget_workers_before,
                              forget_workers_after=forget_workers_after, lease=lease)

    def wake_channel(self, worker_id: str) -> WakeChannel:
        return self.db.wake_channel(worker_id)

    def wake_workers(self, *, stop: bool = False, jobs: int | None = None) -> None:
        """Wake idle workers: as many as ``jobs`` jobs need (None: all); ``stop``: every
        worker, to check in."""
        self.db.read(lambda tx: tx.wake(stop=stop, jobs=jobs))

    # -- config ----------------------------------------------------------------------------

    def config_items(self) -> dict[str, str]:
        return {key: value for key, value in self.db.read(lambda tx: tx.all("config_items"))}

    def set_config(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.write(lambda tx: tx.run("unset_config", {"key": key}))
        else:
            self.db.write(lambda tx: tx.run("set_config", {"key": key, "value": value}))

    # -- reads for the dashboard, stats and status --watch ---------------------------------

    def search_jobs(self, query: JobQuery, limit: int, *, before: str | None = None,
                    after: str | None = None) -> JobPage:
        """Jobs newest first, by keyset: older than cursor ``before`` or newer than ``after``."""
        from . import reads

        return reads.search_jobs(self.db, query, limit, before=before, after=after)

    def running_jobs(self, limit: int) -> list[RunningJob]:
        """Jobs in state processing, longest running first."""
        from . import reads

        return reads.running_jobs(self.db, limit)

    def finished_runs(self, since: float, until: float, limit: int,
                      after: tuple[float, str, int] | None = None) -> list[FinishedRun]:
        """Runs that finished in ``[since, until)``, ordered by ``(finished_at, job id, run)``;
        ``after`` is the key of the last run of the previous page."""
        from . import reads

        return reads.finished_runs(self.db, since, until, limit, after)

    def run_minutes(self, since: int, until: int, origin: float,
                    step: float) -> list[MinuteCounts]:
        """Finished runs per queue, minutes starting in ``[since, until)``, summed into bars
        of ``step`` seconds from ``origin`` (each row's ``minute`` is its bar's start); kept
        by the database as runs finish (migration 0009)."""
        from . import reads

        return reads.run_minutes(self.db, since, until, origin, step)

    def run_counts(self, since: float, until: float) -> list[MinuteCounts]:
        """The runs that finished in ``[since, until)`` counted per queue, as ``run_minutes``
        counts whole minutes (each row's ``minute`` is ``since``), from the runs themselves:
        for the partial minutes at a window's ends."""
        from . import reads

        return reads.run_counts(self.db, since, until)

    def run_hour_bars(self, since: int, until: int, origin: float,
                      step: float) -> list[MinuteCounts]:
        """As ``run_minutes``, from the hourly rollups: hours starting in ``[since, until)``,
        each in the bar its start is in (for windows older than the minute rollups kept)."""
        from . import reads

        return reads.run_hour_bars(self.db, since, until, origin, step)

    def run_hour_counts(self, since: int, until: int) -> list[MinuteCounts]:
        """Finished runs per queue over the hours starting in ``[since, until)``, one row per
        queue (its ``minute`` is ``since``), from the hourly rollups (migration 0009)."""
        from . import reads

        return reads.run_hour_counts(self.db, since, until)

    def run_histograms(self, since: int, until: int) -> list[HistogramRow]:
        """Run and wait time histograms per queue over the hours starting in
        ``[since, until)``; kept by the database as runs finish (migration 0009)."""
        from . import reads

        return reads.run_histograms(self.db, since, until)

    def latest_runs(self, job_ids: Sequence[str]) -> dict[str, JobRun]:
        """When the latest run of each job started and ended; jobs never run are left out."""
        from . import reads

        return reads.latest_runs(self.db, job_ids)

    def pending_breakdown(self, now: float) -> dict[str, int]:
        """Pending jobs: all ("pending"), those waiting for their ``run_at`` ("scheduled") and
        those waiting for dependencies ("blocked"); one pass over pending jobs only."""
        from . import reads

        return reads.pending_breakdown(self.db, now)

    # -- moving between stores (queuectl export / import) ---------------------------------

    def restore(self, settings: Mapping[str, str], jobs: Sequence[Job],
                attempts: Sequence[Attempt], schedules: Sequence[Schedule] = (),
                queues: Sequence[QueueInfo] = ()) -> None:
        """Store exported settings, queues' settings, schedules and jobs exactly as they were
        (states, counters, times) with their attempt history, in one transaction. An id
        stored already raises ``DuplicateJob`` and nothing is written."""
        from .restore import restore

        restore(self.db, settings, jobs, attempts, schedules, queues)

    # -- named queues, recurring schedules, retention ---------------------------------------

    def queues(self) -> list[QueueInfo]:
        """Every queue that has jobs or a setting, by name, with its jobs per state."""
        from . import queues

        return queues.queues(self.db)

    def set_queue_paused(self, name: str, paused: bool) -> None:
        from . import queues

        queues.set_paused(self.db, name, paused)

    def set_queue_limit(self, name: str, limit: int | None) -> None:
        from . import queues

        queues.set_limit(self.db, name, limit)

    def add_schedule(self, schedule: Schedule, now: float) -> bool:
        """Store a new schedule; False (nothing changed) if the name is taken."""
        from . import recurring

        return recurring.add(self.db, schedule, now)

    def schedules(self) -> list[Schedule]:
        from . import recurring

        return recurring.schedules(self.db)

    def get_schedule(self, name: str) -> Schedule | None:
        from . import recurring

        return recurring.get(self.db, name)

    def remove_schedule(self, name: str) -> bool:
        from . import recurring

        return recurring.remove(self.db, name)

    def set_schedule_paused(self, name: str, paused: bool, next_run_at: float | None) -> bool:
        """Pause, or resume with the next tick at ``next_run_at``; False if no such schedule."""
        from . import recurring

        return recurring.set_paused(self.db, name, paused, next_run_at)

    def due_schedules(self, now: float) -> tuple[list[Schedule], float | None]:
        """Schedules not paused whose ``next_run_at`` has come, and the earliest
        ``next_run_at`` of every schedule not paused (None without one), in one read: what
        the housekeeper enqueues, and when it looks again."""
        from . import recurring

        return recurring.due(self.db, now)

    def enqueue_tick(self, name: str, tick: float, next_run_at: float, job: NewJob | None,
                     now: float) -> Job | None:
        """In one transaction: move schedule ``name`` from ``tick`` to ``next_run_at`` (only if
        it is still at ``tick``: the tick key) and enqueue ``job``. None if the tick was taken
        already, or the tick's job exists already."""
        from . import recurring

        return recurring.enqueue_tick(self.db, name, tick, next_run_at, job, now)

    def prune_rollups(self, minutes_before: int, hours_before: int, limit: int) -> bool:
        """Delete minute rollups older than ``minutes_before`` (``limit`` of them) and fold a
        day of hourly rollups older than ``hours_before`` into the totals, in short
        transactions; whether more may be left."""
        from .retention import prune_rollups

        return prune_rollups(self.db, minutes_before, hours_before, limit)

    def purge_batch(self, state: JobState, before: float, limit: int,
                    after_seq: int = 0) -> tuple[int, int | None]:
        """Delete up to ``limit`` jobs in ``state`` updated before ``before`` (oldest first,
        after the cursor ``after_seq``) with their attempts and output, in one short
        transaction. Returns ``(deleted, cursor for the next batch or None at the end)``."""
        from .retention import purge_batch

        return purge_batch(self.db, state, before, limit, after_seq)
