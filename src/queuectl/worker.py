"""A worker: claim ready jobs, run them in parallel slots, record what happened.

One coordinator thread talks to the database; each slot is a thread that runs one command at
a time (slots.py). The coordinator's loop is ``_step()``, which does whatever is due without
waiting, then a sleep of ``_next_wake()``, which says how long nothing will be due and why.
A step records every finished run and claims jobs for every free slot in one transaction, so
a busy worker pays one commit for many jobs. ``run_once()`` is one step.

Faults are contained. A job that cannot start fails its own attempt and the slot goes on
(slots.py). A database error (disk full, a lock held past the busy timeout, a lost connection)
is logged in one line and the step is tried again after a backoff (0.25 s doubling to 15 s);
meanwhile jobs keep running and their results wait in memory (``Backlog``) until a commit takes
them: nothing is reported done that was not committed. Only a stop ends a worker, and a forced
stop works even while the database fails.

Who owns which state:

====================================  ==================================  ===============
state                                 written by                          read by
====================================  ==================================  ===============
storage, settings, ``_backlog``,      the coordinator                     the coordinator
planning (``_maybe_ready``,
``_next_due``, ``_next_poll``, ...)
``_stop_mode``                        ``request_stop``: any thread or     the coordinator
                                      signal handler
the pool's register and queue         pool methods, under its lock        any thread
finished runs, streamed output        slot threads, into thread-safe      the coordinator
                                      queues
the notify pipe                       any thread: one byte wakes the      the coordinator
                                      coordinator
====================================  ==================================  ===============
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import select
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

from . import config
from .backlog import Backlog, counted
from .backoff import ErrorBackoff, outcome_of_run
from .clock import Clock, SystemClock
from .errors import QueuectlError
from .launcher import Launcher
from .maintenance import Housekeeping, rescue_lost_runs
from .models import Job, JobState, Outcome
from .procs import HOST, start_marker
from .runner import Execution
from .slots import SlotPool
from .storage import Storage, redact
from .storage.base import OutputChunk, WakeChannel, WorkerRegistration
from .units import format_duration

log = logging.getLogger("queuectl.worker")

GRACEFUL = "graceful"
NOW = "now"
# While jobs run shorter than this on average, a worker holds several claimed jobs per slot
# and gathers the results of several slots into one commit (see _capacity, _should_gather).
SHORT_JOB_SECONDS = 0.05
HELD_PER_SLOT = 8
GATHER_SECONDS = 0.005
GATHER_RESULTS = 4


def new_worker_id() -> str:
    return "w-" + secrets.token_hex(4)


class Worker:
    """Runs jobs from ``storage`` in ``slots`` parallel slots.

    Use ``run()`` to serve until stopped (``burst=True`` returns once nothing is left that
    this worker could run now or after a retry's backoff), or, stepping by hand,
    ``with worker: worker.run_once()``.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        slots: int = 1,
        clock: Clock | None = None,
        worker_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        owns_storage: bool = False,
        queues: Sequence[str] | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError("a worker needs at least one slot")
        self.storage = storage
        self._owns_storage = owns_storage
        self.slots = slots
        self.queues = list(queues) if queues else None  # None: every queue
        self._housekeeping = Housekeeping(storage)  # schedule ticks, retention
        self.clock = clock or SystemClock()
        self.id = worker_id or new_worker_id()
        self._environ = dict(os.environ if environ is None else environ)
        self.settings = config.resolve(storage.config_items(), self._environ)
        self._pool = SlotPool(slots, self._start_job, self.clock.now, self._notify)
        self._launcher: Launcher | None = None  # from start() on: spawns and owns job processes
        self._notify_read, self._notify_write = -1, -1
        self._wake: WakeChannel | None = None
        self._poller: select.poll | None = None  # the notify pipe and the wake channel
        self._started = False
        self._coordinator: int | None = None  # thread id of the loop's thread
        self._stop_mode: str | None = None
        self._stop_handled: str | None = None  # the stop mode the coordinator acted on
        self._burst = False
        self._chunks: queue.SimpleQueue[OutputChunk] = queue.SimpleQueue()
        self._backlog = Backlog()
        self._canceled: set[tuple[str, int]] = set()  # runs killed on a person's request
        # Planning: when the next step has something to do (see _next_wake). Times are the
        # Clock's; only durations shorter than a step (gathering) are measured on monotonic.
        self._maybe_ready = True  # a job may be claimable now: look
        self._next_due: float | None = None  # earliest run_at known of a job to claim
        self._next_poll = 0.0  # ask the database even if no wake-up came
        self._next_tick = 0.0  # heartbeat, settings, rescues
        self._housekeeping_due = 0.0
        self._check_in_due = False  # a wake-up asked to check for a stop request
        self._gathering_since: float | None = None  # monotonic
        self._burst_over = False
        # Database errors: when to try again, since when it fails, when to rescue again.
        self._errors = ErrorBackoff()
        self._retry_at: float | None = None
        self._failing_since: float | None = None
        self._rescue_from = 0.0
        self._step_began = 0.0  # monotonic

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._started:
            return
        now = self.clock.now()
        rescue_lost_runs(self.storage, self.settings, now)
        self._launcher = Launcher(self._environ, worker_id=self.id)
        self.storage.register_worker(self._registration(), now)
        self._wake = self.storage.wake_channel(self.id)
        self._notify_read, self._notify_write = os.pipe()
        os.set_blocking(self._notify_read, False)
        os.set_blocking(self._notify_write, False)
        self._poller = select.poll()
        self._poller.register(self._notify_read, select.POLLIN)
        self._poller.register(self._wake.fileno(), select.POLLIN)
        self._next_tick = now + self._tick_interval()
        self._pool.start()
        self._started = True
        log.info("worker %s started: %d slot(s), pid %d, database %s",
                 self.id, self.slots, os.getpid(), redact(self.storage.url))

    def _registration(self) -> WorkerRegistration:
        pid = os.getpid()
        return WorkerRegistration(self.id, HOST, pid, start_marker(pid), self.slots)

    def close(self) -> None:
        """Let running jobs end, write what is owed to the database, unregister.

        Raises ``QueuectlError`` (after cleaning up) if the database refused what was owed:
        those jobs stay held until their lease runs out, then count as lost.
        """
        if not self._started:
            return
        self._started = False
        self._pool.close()
        if self._launcher is not None:
            self._launcher.close()
        unwritten: str | None = None
        try:
            self._collect()
            if self._stop_mode == NOW and self._retry_at is not None:
                # A forced stop while the database fails: another try could wait for a whole
                # busy timeout, and the person asked to stop now.
                unwritten = "the database fails"
            else:
                self._write_backlog(limit=0)
                self.storage.unregister_worker(self.id)
        except Exception as exc:  # the database still fails: say what is left behind
            unwritten = _one_line(exc)
        finally:
            if self._wake is not None:
                self._wake.close()
            os.close(self._notify_read)
            os.close(self._notify_write)
            if self._owns_storage:
                self.storage.close()
        if unwritten is not None:
            left = self._backlog.describe() or "its registration"
            raise QueuectlError(f"worker {self.id} stopped without writing {left} "
                                f"({unwritten}); its jobs count as lost once their leases expire")
        log.info("worker %s stopped", self.id)

    def request_stop(self, mode: str = GRACEFUL) -> None:
        """Stop claiming; with ``mode="now"`` also kill running jobs and give their runs back.

        Safe to call from any thread and from a signal handler. From any thread but the
        coordinator's, a forced stop kills the jobs at once, even while the coordinator waits
        on a database that does not answer.
        """
        if mode == NOW or self._stop_mode is None:
            self._stop_mode = mode
        self._pool.stop_starting()
        if mode == NOW and threading.get_ident() != self._coordinator:
            # Not on the coordinator's thread: a handler interrupting it could find the pool's
            # lock taken by that very thread. The coordinator kills them in its next step.
            self._pool.kill_all()
        self._notify()

    @property
    def stopping(self) -> bool:
        return self._stop_mode is not None

    def running_jobs(self) -> int:
        """Jobs a slot is running now."""
        return self._pool.running()

    def describe_stop(self) -> str:
        """What a stop waits for, e.g. "waiting for 2 running jobs"."""
        running = self.running_jobs()
        text = f"waiting for {counted(running, 'running job')}" if running else "no job running"
        owed = self._backlog.describe()
        return f"{text}; {owed} wait for the database" if owed and self._retry_at else text

    # -- slots -------------------------------------------------------------------------------

    def _capacity(self) -> int:
        """How many jobs to hold: one per slot, or several per slot while jobs are short.

        A slot that finishes a short job finds the next one waiting instead of idling through
        a commit, whose fsync can take longer than a job. Long jobs are never claimed ahead: a
        queued job would wait for this worker's slots while another worker sat idle.
        """
        if self._pool.typical_run >= SHORT_JOB_SECONDS:
            return self.slots
        # A slot stuck on a long job will not take queued jobs soon: hold none for it.
        moving = self.slots - self._pool.slots_on_long_jobs(SHORT_JOB_SECONDS)
        return self.slots + (HELD_PER_SLOT - 1) * moving

    def _should_gather(self) -> bool:
        """Whether to let finished runs wait a moment, so that one commit records several.

        Only while every slot still has a job queued (no slot can starve meanwhile), fewer
        results than slots (or than ``GATHER_RESULTS``) are waiting, and the oldest has waited
        under ``GATHER_SECONDS``: at thousands of short jobs a second each commit's CPU is
        then shared by several jobs.
        """
        return (
            self._gathering_since is not None
            and not self._stop_mode
            and self._pool.results_waiting() < max(self.slots, GATHER_RESULTS)
            and self._pool.queued() >= self.slots
            and time.monotonic() - self._gathering_since < GATHER_SECONDS
        )

    def _start_job(self, job: Job) -> Execution:
        """Start a job's command (called by a slot thread)."""
        settings = self.settings

        def stream(offset: int, data: bytes) -> None:
            self._chunks.put(OutputChunk(job.id, job.runs, offset, data))
            self._notify()

        assert self._launcher is not None
        return self._launcher.start(
            job.command, job_id=job.id, run=job.runs, cwd=job.cwd, env=job.env,
            timeout=job.timeout or settings.job_timeout, kill_grace=settings.kill_grace,
            output_limit=settings.output_limit if job.output_limit is None else job.output_limit,
            on_output=stream, direct=settings.direct_exec,
        )

    def _notify(self) -> None:
        try:
            os.write(self._notify_write, b"x")
        except OSError:
            pass  # the pipe is full of wake-ups already, or closed

    # -- the loop ----------------------------------------------------------------------------

    def run(self, *, burst: bool = False) -> None:
        """Serve until ``request_stop``; with ``burst``, also until nothing is left that this
        worker could run now or after a retry's backoff (see ``Storage.next_run_at``)."""
        self._coordinator = threading.get_ident()
        self._burst = burst
        self.start()
        try:
            while True:
                self._guarded_step()
                if self._should_end():
                    return
                self._sleep()
        finally:
            self.close()

    def run_once(self, *, wait: bool = True) -> int:
        """One step of the loop, looking for ready jobs now: record finished runs, claim jobs
        for the free slots (several per slot once jobs have proved short) and start them.

        With ``wait`` (the default) it then waits until the jobs it started have ended, and
        records them. Returns how many jobs it claimed; with a FakeClock this steps the worker
        deterministically. Database errors are raised; what was not written is kept for the
        next step.
        """
        self._coordinator = threading.get_ident()
        self.start()
        self._maybe_ready = True
        claimed = self._step()
        while wait and len(self._pool):
            self._wait(None, "waiting for the jobs it started")
            self._step(claim=False)
        return claimed

    def _guarded_step(self) -> None:
        """A step; a database error is logged in one line and retried after a backoff."""
        try:
            self._step()
        except Exception as exc:  # the one broad except: nothing but a stop ends a worker
            self._failed(exc)
            return
        if self._failing_since is not None:
            log.warning("database available again after %.1fs; carrying on",
                        max(0.0, self.clock.now() - self._failing_since))
            self._errors.succeeded()
            self._retry_at = self._failing_since = None
            self._hold_rescues()
        elif self._cut_off():
            self._hold_rescues()

    def _cut_off(self) -> bool:
        """Whether the current step waited longer than a heartbeat's interval: the database
        was away (a driver that waits for a lost connection to come back), slow, or this
        process was frozen. Measured on monotonic: it is a duration."""
        return time.monotonic() - self._step_began > self._tick_interval()

    def _hold_rescues(self) -> None:
        """Rescue no one for a lease: after an outage, other workers cut off as long must first
        renew their leases, or their running jobs would be taken for lost and run twice."""
        self._rescue_from = self.clock.now() + self.settings.lease_duration

    def _failed(self, exc: Exception) -> None:
        now = self.clock.now()
        # Never longer than a heartbeat's interval: once the database is back, this worker's
        # leases must be renewed before anyone takes its jobs for lost.
        delay = min(self._errors.failed(), self._tick_interval())
        self._retry_at = now + delay
        if self._failing_since is None:
            self._failing_since = now
        owed = self._backlog.describe()
        log.error("database error: %s; retrying in %s (%s%s)", _one_line(exc),
                  format_duration(delay), counted(self.running_jobs(), "job") + " running",
                  f", {owed} waiting" if owed else "")
        if not isinstance(exc, QueuectlError):  # not translated by storage: maybe a bug
            log.debug("the error in full", exc_info=exc)

    def _should_end(self) -> bool:
        if len(self._pool):
            return False
        if self._backlog:
            # Only a forced stop leaves without writing what is owed, and only while the
            # database fails (close() says what was left).
            return self._stop_mode == NOW and self._retry_at is not None
        return self._stop_mode is not None or (self._burst and self._burst_over)

    def _step(self, *, claim: bool = True) -> int:
        """Do whatever is due now, without waiting; returns how many jobs it claimed.

        First what needs no database: acting on a stop, taking finished runs off the slots.
        Then the heartbeat tick when due, storing output, giving back runs, recording results
        and claiming in one transaction, and housekeeping. Raises what the database raised:
        whatever was not written stays in the backlog for the next step.
        """
        self._step_began = time.monotonic()
        self._act_on_stop()
        self._collect()
        if self._stop_mode == NOW and self._retry_at is not None:
            return 0  # leaving while the database fails: close() makes the last try
        now = self.clock.now()
        if now >= self._next_tick or self._check_in_due:
            self._tick(now, full=now >= self._next_tick)
        housekeeping = not self._stop_mode and now >= self._housekeeping_due
        # Awake for housekeeping anyway: poll now too, so that an idle worker wakes once.
        want = self._claim_wanted(now, poll=housekeeping) if claim else 0
        claimed = self._write_backlog(want)
        if want:
            self._after_claim(now, want, len(claimed))
        if self._burst and not (len(self._pool) or self._backlog or self._maybe_ready):
            self._burst_over = self.storage.next_run_at(self.queues, pending_until=now) is None
        if housekeeping:
            self._housekeeping_due = self._housekeeping.run_due(self.settings, now)
        return len(claimed)

    def _act_on_stop(self) -> None:
        """Give back the jobs no slot started, and on a forced stop kill the running ones;
        without a stop, give back those held ahead if jobs turned out long (holding them
        would starve other workers)."""
        if self._stop_mode:
            if self._stop_handled != self._stop_mode:
                self._stop_handled = self._stop_mode
                if self._stop_mode == NOW:
                    self._pool.kill_all()
            self._backlog.give_back(self._pool.take_queued(), started=False)
        elif self._pool.queued() and len(self._pool) > self._capacity():
            self._backlog.give_back(
                self._pool.take_queued(len(self._pool) - self._capacity()), started=False)

    def _next_wake(self) -> tuple[float | None, str]:
        """How long the coordinator may sleep before a step has something to do, and why."""
        now = self.clock.now()
        if self._stop_mode is not None and self._stop_handled != self._stop_mode:
            return 0.0, "stop requested"
        if self._retry_at is not None:
            if self._stop_mode == NOW:  # leaving: only the ends of the killed runs matter
                return (0.0 if self._pool.results_waiting() else None), "killed jobs to end"
            return self._retry_at - now, "database failing: retry after a backoff"
        if self._pool.results_waiting():
            if self._gathering_since is None:
                self._gathering_since = time.monotonic()
            if self._should_gather():
                return GATHER_SECONDS - (time.monotonic() - self._gathering_since), \
                    "gathering results into one commit"
            return 0.0, "results to record"
        if not self._chunks.empty() or self._backlog:
            return 0.0, "output or runs to write"
        if self._check_in_due:
            return 0.0, "check for a stop request"
        wakes = [(self._next_tick - now, "heartbeat")]
        if not self._stop_mode:
            if self._pool.queued() and len(self._pool) > self._capacity():
                return 0.0, "jobs held ahead to give back"
            idle = len(self._pool) < self.slots
            if idle and self._maybe_ready:
                return 0.0, "jobs may be ready"
            wakes.append((self._housekeeping_due - now, "housekeeping"))
            if idle:
                wakes.append((self._next_poll - now, "fallback poll"))
                if self._next_due is not None:
                    wakes.append((self._next_due - now, "a job is due"))
        return min(wakes)

    def _sleep(self) -> None:
        """Sleep until ``_next_wake`` says a step has something to do.

        A slot finishing or a wake-up ends a wait early, and the next wake is asked again: a
        result that arrives while others are being gathered does not cut the gathering short.
        A wait that runs its full length ends the sleep (with a FakeClock, time need not move).
        """
        while True:
            timeout, why = self._next_wake()
            if timeout is not None and timeout <= 0:
                return
            if self._wait(timeout, why):
                return

    def _wait(self, timeout: float | None, why: str) -> bool:
        """Wait until a slot finishes, a wake-up arrives or ``timeout`` passes (``why`` says
        what the timeout is for, for the reader and debuggers); whether it timed out."""
        assert self._wake is not None and self._poller is not None
        events = self._poller.poll(None if timeout is None else max(0.0, timeout) * 1000)
        for fd, _ in events:
            if fd == self._notify_read:
                try:
                    while os.read(self._notify_read, 4096):
                        pass
                except BlockingIOError:
                    pass
            else:
                self._maybe_ready = True
                if self._wake.drain():
                    self._check_in_due = True
        return not events

    # -- what a step does --------------------------------------------------------------------

    def _claim_wanted(self, now: float, *, poll: bool = False) -> int:
        """How many jobs to claim now: the free capacity, if a job may be ready (``poll``:
        ask the database even before the next fallback poll is due)."""
        if self._stop_mode:
            return 0
        free = self._capacity() - len(self._pool)
        if free <= 0:
            return 0
        due = self._maybe_ready or (self._next_due is not None and self._next_due <= now)
        if not due and (poll or now >= self._next_poll) and len(self._pool) < self.slots:
            # The fallback poll: a plain read tells whether a claim is worth the write lock,
            # so that an idle worker costs next to nothing.
            self._next_poll = now + self.settings.poll_interval
            self._next_due = self.storage.next_run_at(self.queues)
            due = self._next_due is not None and self._next_due <= now
        return free if due else 0

    def _after_claim(self, now: float, wanted: int, claimed: int) -> None:
        """Plan the next claim after one that asked for ``wanted`` jobs."""
        self._next_poll = now + self.settings.poll_interval
        if claimed == wanted:
            return  # more may be ready: keep looking
        self._maybe_ready = False
        self._next_due = self.storage.next_run_at(self.queues)
        if self._next_due is not None and self._next_due <= now:
            # Ready but not claimable (another worker took it, or its queue is at its
            # limit): look again at the next poll.
            self._next_due = now + self.settings.poll_interval

    def _collect(self) -> None:
        """Move output and finished runs from the slots into the backlog."""
        while True:
            try:
                self._backlog.chunks.append(self._chunks.get_nowait())
            except queue.Empty:
                break
        self._gathering_since = None
        for run in self._pool.finished():
            job, key = run.job, (run.job.id, run.job.runs)
            canceled = key in self._canceled
            self._canceled.discard(key)
            if run.result.interrupted and self._stop_mode == NOW and not canceled:
                self._backlog.give_back([job], started=True)
            else:
                self._backlog.record(
                    outcome_of_run(job, run.result, run.finished_at, self.settings,
                                   canceled=canceled))

    def _write_backlog(self, limit: int) -> list[Job]:
        """Write what the backlog owes, then record results and claim up to ``limit`` jobs in
        one transaction; each part leaves the backlog once its transaction committed."""
        now = self.clock.now()
        self._backlog.write_output(self.storage, self.id)
        given_back = self._backlog.write_give_backs(self.storage, self.id, now)
        if given_back:
            log.info("gave back %s", given_back)
        outcomes = self._backlog.outcomes
        if not outcomes and limit <= 0:
            return []
        claimed, stale = self.storage.record_and_claim(
            self.id, outcomes, limit, now, now + self.settings.lease_duration, self.queues)
        self._backlog.outcomes = []
        self._pool.submit(claimed)
        self._report(outcomes, stale)
        return claimed

    def _report(self, outcomes: list[Outcome], stale: list[Outcome]) -> None:
        """Log what was recorded, and plan the retries of the runs that failed."""
        for outcome in stale:
            log.warning("discarded the result of job %s run %d: the run was rescued meanwhile",
                        outcome.job_id, outcome.attempt)
        stopping = self._stop_mode is not None
        for outcome in outcomes:
            if outcome.state is JobState.FAILED and outcome.run_at is not None:
                # A run this worker just failed is due again at its retry time.
                if self._next_due is None or outcome.run_at < self._next_due:
                    self._next_due = outcome.run_at
            if outcome in stale:
                continue
            # Failures are news; completions only when asked for (-v) or while stopping: a
            # log line costs more than a queue transaction at thousands of jobs a second.
            quiet = outcome.state is JobState.COMPLETED and not stopping
            if quiet and not log.isEnabledFor(logging.DEBUG):
                continue
            left = f"; {self.running_jobs()} still running" if stopping else ""
            log.log(logging.DEBUG if quiet else logging.INFO, "job %s %s%s%s", outcome.job_id,
                    outcome.state.value, f" ({outcome.error})" if outcome.error else "", left)

    # -- heartbeats, stop and cancel requests ------------------------------------------------

    def _tick_interval(self) -> float:
        return self.settings.lease_duration / 3

    def _tick(self, now: float, *, full: bool) -> None:
        """Heartbeat (which renews this worker's leases and brings stop and cancel requests);
        ``full``: also pick up changed settings and rescue lost runs."""
        if full:
            self.settings = config.resolve(self.storage.config_items(), self._environ)
        self._check_in(now)
        self._check_in_due = False
        if full:
            # Not in the first step after a database error or a long wait for the database,
            # nor for a lease after it (see _hold_rescues).
            if self._cut_off():
                self._hold_rescues()
            if self._retry_at is None and now >= self._rescue_from:
                rescue_lost_runs(self.storage, self.settings, now)
            self._next_tick = now + self._tick_interval()

    def _check_in(self, now: float) -> None:
        check_in = self.storage.heartbeat(self.id, now, now + self.settings.lease_duration)
        if not check_in.registered:
            self.storage.register_worker(self._registration(), now)
        if check_in.stop_requested and check_in.stop_requested != self._stop_mode:
            self.request_stop(check_in.stop_requested)
            log.info("worker %s asked to stop (%s): %s", self.id, check_in.stop_requested,
                     self.describe_stop())
        for job_id, run in check_in.cancel_requested:
            if self._pool.kill(job_id, run):
                self._canceled.add((job_id, run))
                log.debug("job %s: cancel requested, killing its process group", job_id)


def _one_line(exc: BaseException) -> str:
    """An error as one line: storage errors are translated already; others get their type."""
    text = str(exc) if isinstance(exc, QueuectlError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
