"""A worker: claim ready jobs, run them in parallel slots, record what happened.

One coordinator thread talks to the database; each slot is a thread that runs one command at
a time. The coordinator records every finished run and claims jobs for every free slot in the
same transaction, so a busy worker pays one commit for many jobs. An idle worker sleeps in
``poll()`` until a wake-up (an enqueue, a finished run), the earliest retry time, its next
heartbeat, or the fallback poll interval.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import select
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import TracebackType

from . import config
from .backoff import outcome_of_failure
from .clock import Clock, SystemClock
from .launcher import Launcher
from .maintenance import Housekeeping, rescue_lost_runs
from .models import Job, JobState, Outcome
from .procs import HOST, start_marker
from .runner import Execution, RunResult
from .slots import SlotPool
from .storage import Storage, redact
from .storage.base import OutputChunk, WakeChannel, WorkerRegistration

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

    Use ``run()`` to serve until stopped (``burst=True`` returns once nothing is left to do),
    or, stepping by hand, ``with worker: worker.run_once()``.
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
        self._stop_mode: str | None = None
        self._started = False
        self._earliest_retry: float | None = None  # of the failures this worker recorded
        self._chunks: queue.SimpleQueue[OutputChunk] = queue.SimpleQueue()
        self._canceled: set[tuple[str, int]] = set()  # runs killed on a person's request

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
        self._notify_read, self._notify_write = os.pipe()
        os.set_blocking(self._notify_read, False)
        os.set_blocking(self._notify_write, False)
        now = self.clock.now()
        rescue_lost_runs(self.storage, self.settings, now)
        self._launcher = Launcher(self._environ, worker_id=self.id)
        self.storage.register_worker(self._registration(), now)
        self._wake = self.storage.wake_channel(self.id)
        self._pool.start()
        self._started = True
        log.info("worker %s started: %d slot(s), pid %d, database %s",
                 self.id, self.slots, os.getpid(), redact(self.storage.url))

    def _registration(self) -> WorkerRegistration:
        pid = os.getpid()
        return WorkerRegistration(self.id, HOST, pid, start_marker(pid), self.slots)

    def close(self) -> None:
        if not self._started:
            return
        self._started = False
        self._pool.close()
        if self._launcher is not None:
            self._launcher.close()
        try:
            self._record(limit=0)
            self.storage.unregister_worker(self.id)
        finally:
            if self._wake is not None:
                self._wake.close()
            os.close(self._notify_read)
            os.close(self._notify_write)
            if self._owns_storage:
                self.storage.close()
        log.info("worker %s stopped", self.id)

    def request_stop(self, mode: str = GRACEFUL) -> None:
        """Stop claiming; with ``mode="now"`` also kill running jobs and give their runs back.

        Safe to call from a signal handler: it only sets a flag and wakes the coordinator,
        which does the killing.
        """
        if mode == NOW or self._stop_mode is None:
            self._stop_mode = mode
        self._notify()

    @property
    def stopping(self) -> bool:
        return self._stop_mode is not None

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

    def _should_gather(self, since: float | None) -> bool:
        """Whether to let finished runs wait a moment, so that one commit records several.

        Only while every slot still has a job queued (no slot can starve meanwhile), fewer
        results than slots (or than ``GATHER_RESULTS``) are waiting, and the oldest has waited
        under ``GATHER_SECONDS``:
        at thousands of short jobs a second each commit's CPU is then shared by several jobs.
        """
        return (
            since is not None
            and not self._stop_mode
            and self._pool.results_waiting() < max(self.slots, GATHER_RESULTS)
            and self._pool.queued() >= self.slots
            and time.monotonic() - since < GATHER_SECONDS
        )

    def _give_back_queued(self, most: int | None = None) -> None:
        """Return claimed jobs that no slot has started yet: all (a stop is under way), or
        ``most`` of them (jobs turned out long, so holding them would starve other workers)."""
        queued = self._pool.take_queued(most)
        if queued:
            self.storage.release(self.id, [(job.id, job.runs) for job in queued],
                                 self.clock.now(), started=False)

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
        except (BlockingIOError, OSError):
            pass  # the pipe is full of wake-ups already, or closed

    # -- recording and claiming --------------------------------------------------------------

    def _record(self, limit: int) -> list[Job]:
        """Record every finished run and claim up to ``limit`` jobs, in one transaction."""
        self._store_streamed_output()
        return self._exchange(self._collect(), limit)

    def _collect(self) -> list[Outcome]:
        """Take the finished runs off the slots; forced-stop victims are given back at once."""
        outcomes: list[Outcome] = []
        given_back: list[tuple[str, int]] = []
        for run in self._pool.finished():
            job = run.job
            if run.result.interrupted and self._stop_mode == NOW:
                given_back.append((job.id, job.runs))
            else:
                outcomes.append(self._outcome(job, run.result, run.finished_at))
        if given_back:
            self.storage.release(self.id, given_back, self.clock.now(), started=True)
            log.info("gave back %d interrupted job(s)", len(given_back))
        return outcomes

    def _exchange(self, outcomes: list[Outcome], limit: int) -> list[Job]:
        if not outcomes and limit <= 0:
            return []
        now = self.clock.now()
        claimed, stale = self.storage.record_and_claim(
            self.id, outcomes, limit, now, now + self.settings.lease_duration, self.queues
        )
        self._pool.submit(claimed)
        for outcome in stale:
            log.warning("discarded the result of job %s run %d: the run was rescued meanwhile",
                        outcome.job_id, outcome.attempt)
        for outcome in outcomes:
            if outcome.state is JobState.FAILED and outcome.run_at is not None:
                if self._earliest_retry is None or outcome.run_at < self._earliest_retry:
                    self._earliest_retry = outcome.run_at
            if outcome not in stale:
                # Failures are news; completions only when asked for (-v): a log line costs
                # more than a queue transaction at thousands of jobs a second.
                level = logging.DEBUG if outcome.state is JobState.COMPLETED else logging.INFO
                log.log(level, "job %s %s%s", outcome.job_id, outcome.state.value,
                        f" ({outcome.error})" if outcome.error else "")
        return claimed

    def _outcome(self, job: Job, result: RunResult, now: float) -> Outcome:
        if result.succeeded:
            return Outcome(job.id, job.runs, JobState.COMPLETED, now, exit_code=result.exit_code,
                           output=result.output, output_dropped=result.output_dropped,
                           streamed=result.streamed)
        error = result.error or "failed"
        retryable = True
        if (job.id, job.runs) in self._canceled:
            self._canceled.discard((job.id, job.runs))
            job, error = replace(job, cancel_requested=True), "canceled on request"
        elif result.timed_out and not job.retry_on_timeout:
            error, retryable = f"{error} (not retried: retry_on_timeout is off)", False
        elif result.exit_code in job.fatal_exit_codes:
            error, retryable = f"{error} (fatal exit code: not retried)", False
        return outcome_of_failure(
            job, now, self.settings, error, exit_code=result.exit_code, output=result.output,
            output_dropped=result.output_dropped, streamed=result.streamed, retryable=retryable,
        )

    def _store_streamed_output(self) -> None:
        chunks: list[OutputChunk] = []
        while True:
            try:
                chunks.append(self._chunks.get_nowait())
            except queue.Empty:
                break
        if chunks:
            self.storage.append_output(self.id, chunks)

    # -- stepping ----------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim up to ``slots`` ready jobs, run them to their end and record them.

        Returns how many jobs ran; with a FakeClock this steps the worker deterministically.
        """
        self.start()
        claimed = self._record(self.slots - len(self._pool))
        while len(self._pool):
            self._wait(None)
            self._record(limit=0)
        return len(claimed)

    def _wait(self, timeout: float | None) -> tuple[bool, bool]:
        """Sleep until a slot finishes, a wake-up arrives or ``timeout`` passes.

        Returns ``(woken from outside, timed out)``.
        """
        assert self._wake is not None
        poller = select.poll()
        poller.register(self._notify_read, select.POLLIN)
        poller.register(self._wake.fileno(), select.POLLIN)
        events = poller.poll(None if timeout is None else max(0.0, timeout) * 1000)
        woken = False
        for fd, _ in events:
            if fd == self._notify_read:
                try:
                    while os.read(self._notify_read, 4096):
                        pass
                except BlockingIOError:
                    pass
            else:
                woken = True
                if self._wake.drain():
                    self._check_in()
        return woken, not events

    # -- serving -----------------------------------------------------------------------------

    def run(self, *, burst: bool = False) -> None:
        """Serve until ``request_stop`` (or, with ``burst``, until nothing is left to do)."""
        self.start()
        try:
            self._serve(burst)
        finally:
            self.close()

    def _serve(self, burst: bool) -> None:
        maybe_ready = True
        next_due: float | None = None
        next_tick = self.clock.now() + self._tick_interval()
        gathering_since: float | None = None
        while True:
            if self._should_gather(gathering_since):
                assert gathering_since is not None
                if self._wait(GATHER_SECONDS - (time.monotonic() - gathering_since))[0]:
                    maybe_ready = True
                continue
            if self._stop_mode:
                self._give_back_queued()
                if self._stop_mode == NOW:
                    self._pool.kill_all()
            elif self._pool.queued() and len(self._pool) > self._capacity():
                self._give_back_queued(len(self._pool) - self._capacity())
            self._store_streamed_output()  # before the results: a result drops its chunks
            outcomes = self._collect()
            gathering_since = None
            now = self.clock.now()
            free = 0 if self._stop_mode else self._capacity() - len(self._pool)
            due = maybe_ready or (next_due is not None and next_due <= now)
            want = free if due else 0
            claimed = self._exchange(outcomes, want)
            if self._earliest_retry is not None:
                # A run this worker just failed is due again at its retry time.
                if next_due is None or self._earliest_retry < next_due:
                    next_due = self._earliest_retry
                self._earliest_retry = None
            if want and len(claimed) < want:
                maybe_ready = False
                next_due = self.storage.next_run_at()
                if next_due is not None and next_due <= now:
                    # Ready but not claimable (it raced us): look again at the next poll.
                    next_due = now + self.settings.poll_interval
            if self._stop_mode and not len(self._pool):
                return
            if burst and not len(self._pool) and not maybe_ready and next_due is None:
                return
            now = self.clock.now()
            timeout = next_tick - now
            if not self._stop_mode:  # enqueue due schedule ticks; wake for the next one
                timeout = min(timeout, self._housekeeping.run_due(self.settings, now) - now)
            if len(self._pool) < self.slots and not maybe_ready:
                timeout = min(timeout, self.settings.poll_interval)
                if next_due is not None:
                    timeout = min(timeout, next_due - now)
            woken, timed_out = self._wait(timeout)
            if woken:
                maybe_ready = True
            elif timed_out and not maybe_ready:
                # The fallback poll: a plain read tells whether a claim is worth the write
                # lock, so that an idle worker costs next to nothing.
                due_at = self.storage.next_run_at()
                maybe_ready = due_at is not None and due_at <= self.clock.now()
            if gathering_since is None and self._pool.results_waiting():
                gathering_since = time.monotonic()
            if self.clock.now() >= next_tick:
                self._tick()
                next_tick = self.clock.now() + self._tick_interval()

    def _tick_interval(self) -> float:
        return self.settings.lease_duration / 3

    def _tick(self) -> None:
        """Heartbeat, pick up changed settings and stop requests, rescue lost runs."""
        self.settings = config.resolve(self.storage.config_items(), self._environ)
        self._check_in()
        rescue_lost_runs(self.storage, self.settings, self.clock.now())

    def _check_in(self) -> None:
        now = self.clock.now()
        check_in = self.storage.heartbeat(self.id, now, now + self.settings.lease_duration)
        if not check_in.registered:
            self.storage.register_worker(self._registration(), now)
        if check_in.stop_requested:
            log.info("worker %s asked to stop (%s)", self.id, check_in.stop_requested)
            self.request_stop(check_in.stop_requested)
        for job_id, run in check_in.cancel_requested:
            self._cancel(job_id, run)

    def _cancel(self, job_id: str, run: int) -> None:
        if self._pool.kill(job_id, run):
            self._canceled.add((job_id, run))
            log.debug("job %s: cancel requested, killing its process group", job_id)
