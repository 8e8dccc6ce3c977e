"""A worker: claim ready jobs, run them in parallel slots, record what happened.

One coordinator thread talks to the database; each slot is a thread that runs one command at
a time (slots.py). The coordinator's loop is ``_step()``, which does whatever is due without
waiting, then a sleep as long as nothing will be due (sleeper.py says how long and why).
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
storage, ``_backlog``, planning       the coordinator (``maybe_ready``    the coordinator
(``_plan``: ``maybe_ready``,          also as a sleep ends, sleeper.py)
``next_due``, ...)
the heartbeat's: ``settings``,        the coordinator, in a check-in      the coordinator;
``slots``, ``housekeeper``, when to   (heartbeat.py)                      slot threads read
check in next                                                             ``settings``
``_stop_mode``                        ``request_stop``: any thread or     the coordinator
                                      signal handler
the pool's register and queue         pool methods, under its lock        any thread
the pool's ``quiet_below``            the coordinator, while results      slot threads
                                      gather (sleeper.py)
finished runs, streamed output        slot threads, into thread-safe      the coordinator
                                      queues
the notify pipe                       any thread: one byte wakes the      the coordinator
                                      coordinator
====================================  ==================================  ===============
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

from queuectl.process.launcher import Launcher
from queuectl.process.runner import Execution
from queuectl.worker.backlog import Backlog, counted, report
from queuectl.worker.claim_plan import ClaimPlan
from queuectl.worker.doorbell import Doorbell
from queuectl.worker.heartbeat import Heartbeat
from queuectl.worker.hooks import HookRunner
from queuectl.worker.interrupts import Interrupts
from queuectl.worker.maintenance import (
    Housekeeping,
    bury_jobs_waiting_in_vain,
    rescue_lost_runs,
)
from queuectl.worker.outage import Outage, one_line
from queuectl.worker.sleeper import CoordinatorState, Sleeper
from queuectl.worker.slots import SlotPool

from ..clock import Clock
from ..config import Settings
from ..errors import QueuectlError, StorageError
from ..models import Job, JobState
from ..states import paused_jobs
from ..storage import Storage, redact
from ..storage.base import OutputChunk

log = logging.getLogger("queuectl.worker.loop")
# The types a start takes a job's timeout and output_limit in (None: the setting's).
_TIMEOUT_TYPES = frozenset({int, float, type(None)})
_LIMIT_TYPES = frozenset({int, type(None)})

GRACEFUL = "graceful"
NOW = "now"


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
        self.queues = list(queues) if queues else None  # None: every queue
        self._housekeeping = Housekeeping(storage)  # schedule ticks, retention
        self.clock = clock or storage.clock()  # the database's: leases are compared by it
        self.id = worker_id or new_worker_id()
        self._environ = dict(os.environ if environ is None else environ)
        self._doorbell = Doorbell()  # rung by slots, stop requests and the database
        self._pool = SlotPool(slots, self._start_job, self.clock.now, self._doorbell.ring)
        self._launcher: Launcher | None = None  # from start() on: spawns and owns job processes
        self._started = False
        self._coordinator: int | None = None  # thread id of the loop's thread
        self._stop_mode: str | None = None
        self._stop_handled: str | None = None  # the stop mode the coordinator acted on
        self._burst = False
        self._chunks: queue.SimpleQueue[OutputChunk] = queue.SimpleQueue()
        self._backlog = Backlog()
        # Runs canceled, lost to another worker, or ended by the lease fence.
        self._interrupts = Interrupts(self._pool, self.clock, self._doorbell.ring)
        # When and how much to claim, and when an idle slot looks again (see claim_plan.py).
        self._plan = ClaimPlan(self._pool, storage, self.queues)
        self._outage = Outage(self.clock)  # database errors: when to try again
        self._housekeeping_due = 0.0
        self._burst_over = False
        self._paused_told: list[str] = []  # the paused jobs a burst said it waits for
        self._step_began = 0.0  # monotonic: how long a step waits is a duration
        # Completion hooks run on a thread of their own, never on a slot (see hooks.py).
        self._hooks = HookRunner(storage.url, self._environ)
        self._hook_jobs_ended = False  # a job with a hook ended: ring once it is recorded
        # Leases renewed, settings, slots, the housekeeper's role, requests (see heartbeat.py).
        self._heartbeat = Heartbeat(
            storage, self.id, self._environ, slots=slots, interrupts=self._interrupts,
            outage=self._outage, resize_pool=self._pool.resize, ring_hooks=self._hooks.ring,
            asked_to_stop=self._asked_to_stop)
        # When the coordinator wakes between steps, and why (see sleeper.py).
        self._sleeper = Sleeper(
            self.clock, self._doorbell, pool=self._pool, plan=self._plan,
            heartbeat=self._heartbeat, outage=self._outage, coordinator=self._state)

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
        self._doorbell.open()
        if not self._doorbell.listening:
            # First: on SQLite this binds a name only one live process can hold, so a worker
            # whose id another worker of this host runs under stops here (WorkerIdTaken),
            # before its run records or its registration could overwrite the other's.
            self._doorbell.listen(self.storage.wake_channel(self.id))
        now = self.clock.now()
        # Not expired leases when starting after the database was away: their holders may be
        # alive and reconnecting too (see outage.py).
        rescue_lost_runs(self.storage, self.settings, now,
                         expired_leases=self._outage.may_rescue(now))
        # Before the first claim: a --burst worker would end before its housekeeping found them.
        bury_jobs_waiting_in_vain(self.storage, now)
        # Registered before the run records are opened: a live worker registered under this
        # id (on PostgreSQL, whose wake channel holds no name) stops this one here, before its
        # records file (by id, opened afresh) could replace the other's.
        self._heartbeat.register(now)
        try:
            if self._launcher is None:
                self._launcher = Launcher(self._environ, worker_id=self.id)
            self._heartbeat.started(now)
            self._pool.start()
            self._interrupts.fence.start()
            self._hooks.start()
        except Exception:  # no worker will run under this registration: take it back
            with contextlib.suppress(Exception):  # the error that stopped the start tells
                self.storage.unregister_worker(self.id)
            raise
        if self.storage.hooks_due():  # left by workers that stopped, or jobs canceled
            self._hooks.ring()
        self._started = True
        log.info("worker %s started: %d slot(s), pid %d, database %s",
                 self.id, self.slots, os.getpid(), redact(self.storage.url))

    def close(self) -> None:
        """Let running jobs end, write what is owed to the database, unregister.

        Raises ``QueuectlError`` (after cleaning up) if the database refused what was owed:
        those jobs stay held until their lease runs out, then count as lost.
        """
        if not self._started:  # never started, or start() failed half-way
            self._interrupts.fence.close()
            if self._launcher is not None:
                self._launcher.close()
            self._doorbell.close()
            if self._owns_storage:
                self.storage.close()
            return
        self._started = False
        self._pool.close()
        self._interrupts.fence.close()  # after the pool: runs going are watched till they end
        if self._launcher is not None:
            self._launcher.close()
        unwritten: str | None = None
        try:
            self._collect()
            if self._stop_mode == NOW and self._outage.failing:
                # A forced stop while the database fails: another try could wait for a whole
                # busy timeout, and the person asked to stop now.
                unwritten = "the database fails"
            else:
                self._write_backlog(limit=0)
                self.storage.unregister_worker(self.id, hand_over=self._heartbeat.housekeeper)
        except Exception as exc:  # the database still fails: say what is left behind
            unwritten = one_line(exc)
        finally:
            # A graceful stop runs the hooks of the jobs it ended; a forced one does not wait.
            self._hooks.close(drain=self._stop_mode != NOW)
            self._doorbell.close()
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
        self._doorbell.ring()

    def _asked_to_stop(self, mode: str) -> None:
        """A check-in brought a stop request (queuectl worker stop)."""
        if mode != self._stop_mode:
            self.request_stop(mode)
            log.info("worker %s asked to stop (%s): %s", self.id, mode, self.describe_stop())

    @property
    def stopping(self) -> bool:
        return self._stop_mode is not None

    @property
    def settings(self) -> Settings:
        """As of the last check-in, which reads them again when a stored one changed."""
        return self._heartbeat.settings

    @property
    def slots(self) -> int:
        """Jobs run at once (``queuectl parallel`` changes it)."""
        return self._heartbeat.slots

    def running_jobs(self) -> int:
        """Jobs a slot is running now."""
        return self._pool.running()

    def describe_stop(self) -> str:
        """What a stop waits for, e.g. "waiting for 2 running jobs"."""
        running = self.running_jobs()
        text = f"waiting for {counted(running, 'running job')}" if running else "no job running"
        paused = self._pool.paused() if self._stop_mode != NOW else []  # a forced one kills
        if running and paused:  # they go on only once resumed: say so, or the stop looks hung
            text += f", among them {paused_jobs(paused)}"
        owed = self._backlog.describe()
        return f"{text}; {owed} wait for the database" if owed and self._outage.failing else text

    # -- slots -------------------------------------------------------------------------------

    def _start_job(self, job: Job) -> Execution:
        """Start a job's command (called by a slot thread). A value of the row that the
        start uses and queuectl never writes (text in ``timeout``, SQLite, by hand) fails
        the run in one line naming the field, as ``show`` words it."""
        if (type(job.runs) is not int or type(job.timeout) not in _TIMEOUT_TYPES
                or type(job.output_limit) not in _LIMIT_TYPES):
            from ..unreadable import unreadable_fields

            problem = unreadable_fields(job, ("runs", "timeout", "output_limit"))
            raise QueuectlError(f"unreadable row: {problem}")
        settings = self.settings

        def stream(offset: int, data: bytes) -> None:
            self._chunks.put(OutputChunk(job.id, job.runs, offset, data))
            self._doorbell.ring()

        assert self._launcher is not None
        return self._launcher.start(
            job.command, job_id=job.id, run=job.runs, cwd=job.cwd, env=job.env,
            timeout=job.timeout or settings.job_timeout, kill_grace=settings.kill_grace,
            output_limit=settings.output_limit if job.output_limit is None else job.output_limit,
            on_output=stream, direct=settings.direct_exec, started_at=self.clock.now(),
        )

    # -- the loop ----------------------------------------------------------------------------

    def run(self, *, burst: bool = False) -> None:
        """Serve until ``request_stop``; with ``burst``, also until nothing is left that this
        worker could run now or after a retry's backoff (see ``Storage.next_run_at``)."""
        self._coordinator = threading.get_ident()
        self._burst = burst
        try:
            if not self._start_when_reachable():
                return
            while True:
                self._guarded_step()
                if self._should_end():
                    return
                self._sleeper.sleep()
        finally:
            self.close()

    def _start_when_reachable(self) -> bool:
        """``start()``, tried again after a backoff while the database fails (locked, full,
        away); False if a stop came first."""
        while not self._stop_mode:
            try:
                self.start()
            except StorageError as exc:
                self._outage.failed(exc, longest_wait=self._heartbeat.interval,
                                    situation="not started yet")
                assert self._outage.retry_at is not None
                self._doorbell.wait(self._outage.retry_at - self.clock.now())  # or a stop
                continue
            except QueuectlError:
                raise  # one line already: a worker id taken, say
            except Exception as exc:  # this host's limits (open files, threads): no traceback
                raise QueuectlError(f"worker {self.id} could not start: {one_line(exc)}"
                                    ) from exc
            self._outage.succeeded(lease=self.settings.lease_duration)
            return True
        log.info("worker %s stopped before it could start", self.id)
        return False

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
        self._plan.maybe_ready = True
        claimed = self._step()
        while wait and len(self._pool):
            self._sleeper.wait(None, "waiting for the jobs it started")
            self._step(claim=False)
        return claimed

    def _guarded_step(self) -> None:
        """A step; a database error is logged in one line and retried after a backoff."""
        try:
            self._step()
        except Exception as exc:  # the one broad except: nothing but a stop ends a worker
            owed = self._backlog.describe()
            running = counted(self.running_jobs(), "job") + " running"
            self._outage.failed(exc, longest_wait=self._heartbeat.interval,
                                situation=f"{running}, {owed} waiting" if owed else running)
            return
        was_failing = self._outage.failing
        self._outage.succeeded(lease=self.settings.lease_duration)
        if self._cut_off() or was_failing:
            self._outage.hold_rescues(self.settings.lease_duration)
            self._heartbeat.check_in_next_step()  # renew its leases before anything else

    def _cut_off(self) -> bool:
        """Whether the current step waited longer than a heartbeat's interval: the database
        was away (a driver that waits for a lost connection to come back), slow, or this
        process was frozen. Other workers may not have renewed their leases yet."""
        return self._heartbeat.outlasted(self._step_began)

    def _should_end(self) -> bool:
        if len(self._pool):
            return False
        if self._backlog:
            # Only a forced stop leaves without writing what is owed, and only while the
            # database fails (close() says what was left).
            return self._stop_mode == NOW and self._outage.failing
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
        if self._stop_mode == NOW and self._outage.failing:
            return 0  # leaving while the database fails: close() says what was left
        now = self.clock.now()
        ticked = self._heartbeat.due(now)
        if ticked:  # results not recorded yet hold their leases too
            self._heartbeat.tick(now, holding=bool(len(self._pool) or self._backlog),
                                 step_began=self._step_began)
        housekeeping = (self._heartbeat.housekeeper and not self._stop_mode
                        and now >= self._housekeeping_due)
        want = 0
        if claim and not self._stop_mode:
            # Awake for housekeeping or a heartbeat anyway: poll now too, so that an idle
            # worker wakes once.
            want = self._plan.wanted(now, self._poll_interval(), poll=housekeeping or ticked)
        began = time.monotonic()
        claimed = self._write_backlog(want)
        if want:
            self._plan.transaction_took(time.monotonic() - began)
            self._plan.claimed(now, want, len(claimed), self._poll_interval())
        if self._burst and not (len(self._pool) or self._backlog or self._plan.maybe_ready):
            self._burst_over = self._plan.nothing_left(now)
        elif self._burst and self._pool.running() == len(self._pool) and not self._backlog:
            self._tell_paused_burst()
        if housekeeping:
            # Idle workers that hear every wake-up poll seldom: the housekeeper wakes them
            # for jobs whose delay or backoff ran out.
            self._housekeeping_due = self._housekeeping.run_due(
                self.settings, now, wake_for_due=self._doorbell.reliable)
        return len(claimed)

    def _tell_paused_burst(self) -> None:
        """Say once (a warning: -q shows it) that a burst worker waits for paused jobs, when
        they are all it runs: they end only once resumed, so it would look hung (for ever)."""
        paused = self._pool.paused() if len(self._pool) and not self._stop_mode else []
        if len(paused) < len(self._pool) or not paused:
            self._paused_told = []  # running again: a later pause is told again
            return
        if paused == self._paused_told:
            return
        self._paused_told = paused
        log.warning("worker %s (burst) waits for %s", self.id, paused_jobs(paused))

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
        elif excess := self._plan.held_too_many():
            self._backlog.give_back(self._pool.take_queued(excess), started=False)

    def _state(self) -> CoordinatorState:
        """What the sleeper reads of the coordinator's own state."""
        mode = self._stop_mode
        return CoordinatorState(
            stop_unheeded=mode is not None and self._stop_handled != mode,
            stopping=bool(mode), forced_stop=mode == NOW,
            writes_waiting=not self._chunks.empty() or bool(self._backlog),
            housekeeping_due=self._housekeeping_due)

    # -- what a step does --------------------------------------------------------------------

    def _collect(self) -> None:
        """Move output and finished runs from the slots into the backlog."""
        output = []
        while not self._chunks.empty():
            output.append(self._chunks.get_nowait())  # only this thread takes from it
        self._plan.collected()
        finished = self._pool.finished()
        self._hook_jobs_ended |= any(f.job.on_finish or f.job.webhook for f in finished)
        self._interrupts.take_ended(self._backlog, finished, output, self.settings,
                                    forced_stop=self._stop_mode == NOW)

    def _write_backlog(self, limit: int) -> list[Job]:
        """Write what the backlog owes, recording results and claiming up to ``limit`` jobs in
        one transaction; each part leaves the backlog once its transaction committed."""
        now = self.clock.now()
        claimed, recorded, refused = self._backlog.write(
            self.storage, self.id, now, now + self.settings.lease_duration, limit, self.queues,
            self._launcher.settled if self._launcher is not None else lambda runs: None)
        self._pool.submit(claimed)
        if claimed:
            self._interrupts.claimed(claimed, now, self.settings.lease_duration)
        for outcome in recorded:
            if outcome.state is JobState.FAILED and outcome.run_at is not None:
                self._plan.due_again(outcome.run_at)  # a retry this worker may take
        report(recorded, refused, stopping=self._stop_mode is not None,
               running=self.running_jobs)
        if self._hook_jobs_ended and recorded:
            self._hook_jobs_ended = False
            self._hooks.ring()
        return claimed

    def _poll_interval(self) -> float:
        return self._heartbeat.poll_interval(wakeups_reliable=self._doorbell.reliable)
