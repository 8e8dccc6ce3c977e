"""Housekeeping any worker does: rescuing the runs of workers that died, enqueuing the ticks
of recurring jobs, pruning finished jobs past their retention.

A worker on this host whose process is gone is rescued at once (its leftover job processes
are killed first, so that no job runs twice at once); any other run is rescued when its lease
expires, and if it is still going on this host (its worker frozen) it is killed first too.
Either way the lost run counts as a failed attempt with the error ``worker lost`` and the
retry policy applies, except, for a dead worker of this host, a run it claimed ahead and never
started (its run records say which started, written before each fork): that one goes back to
the queue as it was, no attempt spent, as after a graceful stop. A worker lost elsewhere (its
lease expired) has its every run charged: nothing here tells which of them started.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from queuectl.hosts import HOST, is_alive
from queuectl.process.leftovers import kill_job_run, kill_leftover_job_processes
from queuectl.process.ownership import forget_worker, started_runs

from ..backoff import outcome_of_failure
from ..config import Settings
from ..errors import InvalidInput, QueuectlError
from ..jobspec.fields import duration
from ..jobspec.limits import MAX_DELAY_SECONDS
from ..jobspec.parse import parse_job_spec
from ..jobspec.stored import schedule_without_unportable_env
from ..jobspec.text import shown
from ..models import Job, JobState, NewJob, Outcome
from ..recurring import Schedule, tick_job_id
from ..states import TERMINAL_STATES
from ..storage import Storage
from ..units import format_timestamp, is_number
from .outage import one_line

log = logging.getLogger("queuectl.worker.maintenance")

LOST = "worker lost"


def dead_local_workers(storage: Storage, host: str = HOST) -> list[str]:
    return [
        worker.id
        for worker in storage.local_workers(host)
        if not is_alive(worker.pid, worker.pid_started)
    ]


def rescue_lost_runs(storage: Storage, settings: Settings, now: float, *,
                     expired_leases: bool = True) -> list[Outcome]:
    """Fail the runs of dead workers on this host and (``expired_leases``) of expired leases;
    returns what was rescued."""

    def decide(job: Job) -> Outcome:
        # The holder may be alive but frozen (SIGSTOP, a paused VM): if its run is still
        # going on this host, end it before the job can be claimed again.
        kill_job_run(job.id, job.runs, job.worker_id)
        return outcome_of_failure(job, now, settings, LOST)

    rescued: list[Outcome] = []
    dead = dead_local_workers(storage)
    if dead:
        started: dict[str, dict[tuple[str, int], float] | None] = {}
        for worker_id in dead:
            started[worker_id] = started_runs(worker_id)
            killed = kill_leftover_job_processes(worker_id, forget=False)
            if killed:
                log.warning("killed %d leftover job process(es) of dead worker %s",
                            killed, worker_id)

        def decide_dead(job: Job) -> Outcome | None:
            runs = started.get(job.worker_id or "")
            if runs is None:
                return decide(job)
            if (job.id, job.runs) not in runs:
                log.info("gave back job %s (run %d): claimed ahead by a dead worker, never "
                         "started", job.id, job.runs)
                return None
            # The attempt's time is the run's start, not its claim (held ahead, it came later).
            return replace(decide(job), started_at=runs[(job.id, job.runs)] or None)

        rescued += storage.rescue(now, decide_dead, worker_ids=dead)
        # Only now: a rescuer at the same time that found no records would charge every run.
        for worker_id in dead:
            forget_worker(worker_id)
    if expired_leases:
        # Registrations of workers elsewhere that fell silent long ago are forgotten, and
        # those whose heartbeat is no time (inf, NaN, by hand) or as far ahead: a live worker
        # writes the database's time (PostgreSQL) or its host's (SQLite), so only a clock
        # stepped back by that much puts a live one there, and it registers again at its
        # next heartbeat. Until then it reads lost but keeps its id and its runs (see
        # held_jobs_expired): forgotten sooner (a lease ahead), its runs, leased as far ahead
        # and then held by no one registered, would be rescued from under a live worker.
        forget_margin = max(10 * settings.lease_duration, 3600.0)
        rescued += storage.rescue(now, decide, forget_workers_before=now - forget_margin,
                                  forget_workers_after=now + forget_margin,
                                  lease=settings.lease_duration)
    for outcome in rescued:
        log.warning("rescued job %s (run %d) of a lost worker: now %s",
                    outcome.job_id, outcome.attempt, outcome.state.value)
    return rescued


def bury_jobs_waiting_in_vain(storage: Storage, now: float) -> list[str]:
    """End dead, each in one line, the waiting jobs whose count of dependencies not completed
    no dependency can bring to 0 (see ``Store.bury_jobs_waiting_in_vain``); their ids. A
    dependency that ends dead or canceled kills its dependents (their error names it): one
    that can never complete any more, for it is gone, does the same, rather than leaving them
    pending for ever."""
    buried = storage.bury_jobs_waiting_in_vain(now)
    for job_id, error in buried:
        log.warning("job %s dead (%s)", job_id, error)
    return [job_id for job_id, _ in buried]


# -- recurring jobs and retention ------------------------------------------------------------

PRUNE_BATCH = 200  # jobs deleted per transaction: short enough never to hold up claims
PURGE_BATCH = 500  # jobs deleted per transaction by a person's purge
ROLLUP_BATCH = 2000  # minute rollups deleted per transaction (a few bytes each)
PRUNE_PAUSE = 300.0  # seconds between pruning passes once nothing old is left
WAITERS_PAUSE = 300.0  # seconds between looks for jobs waiting in vain (a scan of the waiting)
BAD_TICK_RETRY = 3600.0  # seconds before a schedule whose tick failed is tried again


def enqueue_due_ticks(storage: Storage, settings: Settings, now: float,
                      due: Sequence[Schedule] | None = None,
                      warned: set[str] | None = None) -> list[Job]:
    """Enqueue the due tick of every schedule (of ``due``, read already, if given), each once
    however many workers try at once. Returns the ticks' jobs: each one enqueued, and the
    live job a tick's unique key found instead (that tick skipped, its LAST RUN not moved).

    A schedule that missed several ticks (no worker ran) gets one job, for the oldest missed
    tick, and moves on to the first tick after now: at most one catch-up run.

    A template stored before the rule on env names may hold names enqueue refuses now: the
    tick's job is enqueued without them, as ``import`` does (``portable_env``), with a
    warning, once per schedule named in ``warned`` (the caller's memory; None: every time).
    """
    enqueued: list[Job] = []
    for schedule in storage.due_schedules(now)[0] if due is None else due:
        # Only the template's handling is guarded: a failure to store the tick is the
        # database's, for the caller's outage handling.
        following, job = _tick_of(schedule, settings, now, warned)
        stored = storage.enqueue_tick(schedule.name, schedule.next_run_at, following, job, now)
        if stored is not None:
            if stored.unique_conflict:  # not a run: LAST RUN stays (storage.recurring)
                log.info("schedule %s: tick %s skipped: job %s with its unique key is live",
                         schedule.name, format_timestamp(schedule.next_run_at), stored.id)
            else:
                log.info("schedule %s: enqueued job %s", schedule.name, stored.id)
            enqueued.append(stored)
    return enqueued


def _tick_of(schedule: Schedule, settings: Settings, now: float,
             warned: set[str] | None) -> tuple[float, NewJob | None]:
    """The tick after ``schedule``'s due one and the due tick's job; if its stored row cannot
    make them, an error logged, ``(now + BAD_TICK_RETRY, None)``: the tick is skipped.

    Whatever a stored row makes this raise fails this schedule's tick alone: raised on, it
    would be taken for a database outage, and stop every other schedule's ticks with it.
    """
    tick = schedule.next_run_at
    try:
        _check_tick(tick)
        portable = _with_portable_env(schedule, warned)
        job = parse_job_spec({**_template(portable), "id": tick_job_id(schedule.name, tick)},
                             settings)
        return portable.following(tick, now), job
    except Exception as exc:  # its time zone gone from this host; a row no check let in
        log.error("schedule %s: tick %s skipped: %s", schedule.name, format_timestamp(tick),
                  one_line(exc))
        return now + BAD_TICK_RETRY, None


def _check_tick(tick: object) -> None:
    """``InvalidInput`` unless the stored tick is a number (SQLite keeps text written by
    hand in a REAL column; the store reads such a row as due, for it to be skipped here)."""
    if not is_number(tick):
        raise InvalidInput("its next_run_at is not a number")  # the line shows it


def _template(schedule: Schedule) -> Mapping[str, Any]:
    """``schedule``'s job template; ``InvalidInput`` if the row holds anything but a JSON
    object (an array, a number, text that is not JSON at all: see ``storage.recurring``)."""
    problem = schedule.template_problem()
    if problem:
        raise InvalidInput(problem)
    return schedule.job


def _with_portable_env(schedule: Schedule, warned: set[str] | None) -> Schedule:
    """``schedule`` with its template's unportable env names left out, warned of once."""
    if schedule.template_problem():
        return schedule  # no object: no env to leave out (_template refuses it next)
    portable, left_out = schedule_without_unportable_env(schedule)
    if left_out and (warned is None or schedule.name not in warned):
        log.warning("schedule %s: its jobs leave out env variables of its template whose "
                    "names are not portable (no job's shell passed them on): %s",
                    schedule.name, ", ".join(shown(name) for name in left_out))
        if warned is not None:
            warned.add(schedule.name)
    return portable


def retention_ages(settings: Settings) -> dict[JobState, float]:
    """How old each finished state's jobs may grow before workers delete them: ``retention``
    for every finished state, and ``keep_completed`` (7 days by default) for completed
    jobs, the shorter of the two. With the defaults: ``{COMPLETED: 604800.0}``."""
    ages: dict[JobState, float] = {}
    if settings.retention is not None:
        ages = dict.fromkeys((JobState.COMPLETED, JobState.DEAD, JobState.CANCELED),
                             settings.retention)
    if settings.keep_completed is not None:
        ages[JobState.COMPLETED] = min(ages.get(JobState.COMPLETED, math.inf),
                                       settings.keep_completed)
    return ages


class Housekeeping:
    """What the housekeeper (one worker of a store, see loop.py) does on a timer besides
    rescues: schedule ticks, retention, waking idle workers for jobs whose time came, and
    (every ``WAITERS_PAUSE``) burying the jobs that wait in vain on dependencies.

    ``run_due`` does whatever has come due and returns when it is next due, so that the
    worker sleeps no longer than that: until the next tick of any schedule, and at least once
    a poll interval (a schedule added or resumed meanwhile is noticed that soon).

    With ``wake_for_due`` (idle workers rely on wake-ups and poll seldom: PostgreSQL) it also
    wakes as many idle workers as jobs came due since its last look (a delay or a retry's
    backoff ran out, which no enqueue announces), and is next due when the next such job is.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._due_at = 0.0
        self._prune_at = 0.0
        # When to look for jobs waiting in vain again; None: a pause from now (the worker
        # looked as it started).
        self._waiters_at: float | None = None
        self._cursors: dict[JobState, int] = {}
        self._looked_for_due: float | None = None  # when jobs that came due were last counted
        self._env_warned: set[str] = set()  # schedules whose unportable env names were logged

    def run_due(self, settings: Settings, now: float, *, wake_for_due: bool = False) -> float:
        if now < self._due_at:
            return self._due_at
        try:
            # One read when nothing is due (the usual look), a second after enqueuing ticks
            # (their schedules moved on).
            due, tick_at = self.storage.due_schedules(now)
            if due:
                enqueue_due_ticks(self.storage, settings, now, due, self._env_warned)
                tick_at = self.storage.due_schedules(now)[1]
            due_at = now + settings.poll_interval
            if tick_at is not None:
                due_at = min(due_at, max(tick_at, now + 0.01))
            if wake_for_due:
                job_at = self._wake_for_due(settings, now)
                if job_at is not None:
                    due_at = min(due_at, max(job_at, now + 0.01))
            else:
                self._looked_for_due = None
            if self._waiters_at is None:
                self._waiters_at = now + WAITERS_PAUSE
            elif now >= self._waiters_at:
                bury_jobs_waiting_in_vain(self.storage, now)
                self._waiters_at = now + WAITERS_PAUSE
            due_at = min(due_at, self._waiters_at)
            ages = retention_ages(settings)
            if ages:
                if now >= self._prune_at:
                    more = self.prune({state: now - age for state, age in ages.items()}, now)
                    self._prune_at = now + (settings.poll_interval if more else PRUNE_PAUSE)
                due_at = min(due_at, self._prune_at)
        except QueuectlError as exc:  # the database is busy or gone: try again later
            log.warning("housekeeping failed: %s", exc)
            due_at = now + settings.poll_interval
        self._due_at = due_at
        return due_at

    def _wake_for_due(self, settings: Settings, now: float) -> float | None:
        """Wake idle workers for the jobs that came due since the last look (the first look
        goes back a lease: a housekeeper that took over finds what waited meanwhile); returns
        when the next one comes due. Jobs this worker claimed in this step are not counted:
        it claims before its housekeeping."""
        since = self._looked_for_due
        if since is None:
            since = now - settings.lease_duration
        count, next_at = self.storage.jobs_come_due(since, now)
        self._looked_for_due = now
        if count:
            self.storage.wake_workers(jobs=count)
        return next_at

    def prune(self, before: float | dict[JobState, float], now: float | None = None) -> bool:
        """Delete one batch of finished jobs per terminal state, older than ``before`` (one
        time for all, or one per state; states left out are kept), and with ``now`` one
        batch of the run rollups past what is kept (``rollups.MINUTES_KEPT``, ``HOURS_KEPT``).

        Returns whether more may be left: the caller comes back soon rather than deleting
        everything in one long go.
        """
        if not isinstance(before, dict):
            before = dict.fromkeys((JobState.COMPLETED, JobState.DEAD, JobState.CANCELED),
                                   before)
        more = False
        for state, older_than in before.items():
            deleted, cursor = self.storage.purge_batch(
                state, older_than, PRUNE_BATCH, self._cursors.get(state, 0))
            if deleted:
                log.info("retention: deleted %d %s job(s)", deleted, state.value)
            if cursor is None:
                self._cursors.pop(state, None)
            else:
                self._cursors[state] = cursor
                more = True
        if now is not None:
            from ..rollups import HOURS_KEPT, MINUTES_KEPT

            more |= self.storage.prune_rollups(int(now - MINUTES_KEPT), int(now - HOURS_KEPT),
                                               ROLLUP_BATCH)
        return more


def purge(storage: Storage, states: Sequence[JobState | str], older_than: float | str,
          now: float) -> int:
    """``Queue.purge``: delete finished jobs in ``states`` last updated more than
    ``older_than`` ago (0: all of them), in short batches; how many were deleted."""
    try:
        given = [states] if isinstance(states, str) else list(states)
    except TypeError:  # purge(5): no states at all
        raise InvalidInput(f"state: expected a state name or a list of them, got"
                           f" {type(states).__name__}") from None
    chosen = [JobState.parse(state) for state in given]
    if not chosen:
        raise InvalidInput("give at least one state to purge")
    for state in chosen:
        if state not in TERMINAL_STATES:
            raise InvalidInput("only finished jobs (completed, dead, canceled) can be"
                               f" purged, not {state.value}")
    # NaN, infinity and 2**70 seconds deleted nothing without a word: at most 100 years.
    age = duration(older_than, "older-than", MAX_DELAY_SECONDS, "7d", zero=True)
    before = now - age if age else math.inf
    deleted = 0
    for state in dict.fromkeys(chosen):
        cursor: int | None = 0
        while cursor is not None:
            count, cursor = storage.purge_batch(state, before, PURGE_BATCH, cursor)
            deleted += count
    return deleted
