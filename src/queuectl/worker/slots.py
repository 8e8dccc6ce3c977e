"""A worker's slots: threads that each run one job at a time, fed by the coordinator.

The pool keeps the register of the runs the worker holds (queued or running), keyed by job
and run number, so that the coordinator can kill one (a cancel), all (a forced stop), or take
back those not started yet. Slot threads take queued jobs from the front; the coordinator
gives back from the back, so the best jobs stay.

A slot never dies and never jams: whatever goes wrong while a job starts or runs (a value the
OS refuses, a bug) ends that run as failed, with the error, and the slot takes the next job.

Two runs of one job never run at once. The register can hold both: a job whose lease ran out
(the database was unreachable for longer than the lease) may be rescued and claimed again by
this same worker while its earlier run still goes on. That earlier run's result would be
refused anyway, so it is killed, and the new run waits until it has ended.
"""

from __future__ import annotations

import logging
import queue
import signal as signals
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from queuectl.process.runner import Execution, RunResult

from ..errors import QueuectlError
from ..models import Job
from .thread_names import name_os_thread

log = logging.getLogger("queuectl.worker.loop")

RunKey = tuple[str, int]  # (job id, run number)


@dataclass
class _Held:
    job: Job
    execution: Execution | None = None
    killed: bool = False  # a kill came before the command started: kill it on start
    started: float | None = None  # time.monotonic() when a slot started it
    signals: list[int] = field(default_factory=list)  # came before the command started
    paused: bool = False  # stopped by a SIGSTOP from queuectl pause


@dataclass(frozen=True)
class Finished:
    job: Job
    result: RunResult
    finished_at: float


def _ended(held: _Held) -> bool:
    """The run ended on its own; its result waits for the coordinator: nothing to kill."""
    return held.execution is not None and held.execution.ended


def _key(job: Job) -> RunKey:
    return (job.id, job.runs)


class SlotPool:
    """``slots`` threads running the jobs ``submit`` hands them; ``finished`` collects results.

    Thread safety: ``_held``, ``_queued``, ``_running_ids`` and ``typical_run`` are written
    under ``_lock`` only; results travel to the coordinator through ``_done``, a queue.
    """

    def __init__(
        self,
        slots: int,
        start_job: Callable[[Job], Execution],
        now: Callable[[], float],
        notify: Callable[[], None],
    ) -> None:
        self.slots = slots
        self._start_job = start_job
        self._now = now
        self._notify = notify
        self._held: dict[RunKey, _Held] = {}
        self._lock = threading.Lock()
        self._queued: deque[Job] = deque()
        self._running_ids: set[str] = set()  # jobs a slot is running a run of
        self._waiting_for_run = False  # a queued run waits for an earlier run of its job
        self._has_work = threading.Condition(self._lock)
        self._closing = False
        self._starting = True
        self._done: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._serving = 0  # slot threads that have not ended: more than ``slots`` after a resize
        # Seconds a job typically runs: a moving average over the last ~10 runs. Assume long
        # jobs until some have been measured. Read without the lock: a float is read whole,
        # and a value one run old only shifts how many jobs the coordinator claims ahead.
        self.typical_run = 1.0
        self._measured = False
        # While the coordinator gathers results (see ClaimPlan.gathering), a slot that ends a
        # run rings it only when this many results wait, or when fewer jobs are queued than
        # there are slots: the coordinator wakes at the end of the gathering anyway, and a
        # wake-up per result (a context switch each) is CPU taken from the jobs. 0: always.
        self.quiet_below = 0

    def start(self) -> None:
        self._closing = False
        self._add_threads(self.slots)

    def _add_threads(self, count: int) -> None:
        for _ in range(count):
            with self._lock:
                self._serving += 1
            thread = threading.Thread(target=self._serve, name=f"slot-{len(self._threads)}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def resize(self, slots: int) -> None:
        """Run ``slots`` jobs at once from now on (queuectl parallel). More slots start
        threads at once; fewer let the surplus threads end as they finish their jobs, so no
        running job is touched. Coordinator thread only."""
        with self._lock:
            self.slots = slots
            missing = slots - self._serving
            self._has_work.notify_all()  # an idle surplus thread ends now
        if missing > 0 and self._threads:  # started: else start() makes them all
            self._add_threads(missing)

    def close(self) -> None:
        """Let queued and running jobs finish, then end the threads."""
        with self._lock:
            self._closing = True
            self._has_work.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __len__(self) -> int:
        """Runs held: running or queued for a slot."""
        return len(self._held)

    def queued(self) -> int:
        """Held runs that no slot has started yet."""
        return len(self._queued)

    def running(self) -> int:
        """Runs a slot is running now. Without the lock (a set's size is read whole), so that
        a signal handler may ask while the coordinator holds it."""
        return len(self._running_ids)

    def paused(self) -> list[str]:
        """Jobs whose run queuectl pause stopped: a graceful stop waits for them until they are
        resumed. Without the lock (a snapshot of the held runs), for signal handlers too."""
        return [held.job.id for held in list(self._held.values()) if held.paused]

    def stop_starting(self) -> None:
        """Start no more queued jobs (a stop is under way: they are to be given back).

        Without the lock, for signal handlers too: slots read the flag under the lock."""
        self._starting = False

    def results_waiting(self) -> int:
        """Runs that ended and wait for ``finished`` to collect them."""
        return self._done.qsize()

    def slots_on_long_jobs(self, longer_than: float) -> int:
        """Slots whose current job has been running for more than ``longer_than`` seconds."""
        limit = time.monotonic() - longer_than  # a duration: monotonic, not the Clock
        with self._lock:
            return sum(1 for held in self._held.values()
                       if held.started is not None and held.started < limit)

    def submit(self, jobs: list[Job]) -> None:
        superseded: list[Execution] = []
        with self._lock:
            # One pass over the register per batch, not per job: up to 16 runs a slot are held.
            held_ids = {job_id for job_id, _ in self._held}
            for job in jobs:
                if job.id in held_ids:
                    superseded += self._supersede_earlier_runs(job)
                self._held[_key(job)] = _Held(job)
            self._queued.extend(jobs)
            self._has_work.notify(len(jobs))
        for execution in superseded:
            execution.kill()

    def _supersede_earlier_runs(self, job: Job) -> list[Execution]:
        """Drop or kill the runs of ``job`` held from before this claim (lock held)."""
        kill: list[Execution] = []
        for key in [key for key in self._held if key[0] == job.id]:
            held = self._held[key]
            if held.started is None:  # never started: it must not start now
                self._queued.remove(held.job)
                del self._held[key]
                log.warning("job %s run %d: dropped before it started, as run %d was claimed",
                            job.id, key[1], job.runs)
            elif not held.killed:
                held.killed = True
                if held.execution is not None:
                    kill.append(held.execution)
                log.warning("job %s run %d: its lease was lost and the job claimed again as "
                            "run %d; killing the old run first", job.id, key[1], job.runs)
        return kill

    def finished(self) -> list[Finished]:
        """The runs that ended since the last call; they are no longer held."""
        ended: list[Finished] = []
        while True:
            try:
                ended.append(self._done.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            for item in ended:
                self._held.pop(_key(item.job), None)
        return ended

    def take_queued(self, most: int | None = None) -> list[Job]:
        """Take back (up to ``most``) jobs no slot has started yet, the last queued first."""
        taken: list[Job] = []
        with self._lock:
            while self._queued and (most is None or len(taken) < most):
                job = self._queued.pop()
                del self._held[_key(job)]
                taken.append(job)
        return taken

    def kill(self, job_id: str, run: int) -> bool:
        """Kill the job's process group if this pool holds that run; whether it did."""
        with self._lock:
            held = self._held.get((job_id, run))
            if held is None or held.killed or _ended(held):
                return False
            held.killed = True
            execution = held.execution
        if execution is not None:
            execution.kill()
        return True

    def signal(self, job_id: str, run: int, name: str) -> bool:
        """Send the signal named ``name`` (TERM, STOP, CONT...) to the run's process group,
        now or, for a run not started yet, as it starts; whether this pool holds the run. A
        run stopped by a pause is continued after any other signal, so that it can act."""
        signum = signals.Signals["SIG" + name]
        with self._lock:
            held = self._held.get((job_id, run))
            if held is None or held.killed:
                return False
            execution = held.execution
            if execution is None:
                held.signals.append(signum)
            was_paused = held.paused
            if signum is signals.SIGSTOP or signum is signals.SIGCONT:
                held.paused = signum is signals.SIGSTOP
        if execution is not None:
            execution.send_signal(signum)
            if was_paused and signum not in (signals.SIGSTOP, signals.SIGCONT):
                execution.send_signal(signals.SIGCONT)
                with self._lock:
                    held.paused = False
        return True

    def held_runs(self) -> list[RunKey]:
        """The runs held: running, or queued for a slot."""
        with self._lock:
            return list(self._held)

    def end_runs(self, runs: list[RunKey]) -> tuple[list[Job], list[RunKey]]:
        """End ``runs`` whose leases ran out (see fence.py): those no slot started are taken
        back and returned first; running ones are killed and returned second."""
        unstarted: list[Job] = []
        killed: list[Execution | None] = []
        keys: list[RunKey] = []
        with self._lock:
            for key in runs:
                held = self._held.get(key)
                if held is None or held.killed or _ended(held):
                    continue
                if held.started is None:
                    self._queued.remove(held.job)
                    del self._held[key]
                    unstarted.append(held.job)
                else:
                    held.killed = True
                    killed.append(held.execution)
                    keys.append(key)
        for execution in killed:
            if execution is not None:  # else it is killed as it starts (see _run)
                execution.kill()
        return unstarted, keys

    def kill_all(self) -> None:
        with self._lock:
            everything = list(self._held.values())
            for held in everything:
                held.killed = True
        for held in everything:
            if held.execution is not None:
                held.execution.kill()

    # -- the slot threads --------------------------------------------------------------------

    def _next(self) -> _Held | None:
        """The first queued run whose job no slot is running another run of; None once
        closing, or when this thread is one more than the pool's slots (after a resize)."""
        with self._lock:
            return self._next_locked()

    def _next_locked(self) -> _Held | None:
        while True:
            if self._serving > self.slots:
                self._serving -= 1
                return None
            for index, job in enumerate(self._queued if self._starting else ()):
                if job.id not in self._running_ids:
                    del self._queued[index]  # nearly always the first
                    held = self._held[_key(job)]
                    held.started = time.monotonic()
                    self._running_ids.add(job.id)
                    return held
                self._waiting_for_run = True  # woken when a run ends (see _hand_on)
            if self._closing and (not self._queued or not self._starting):
                self._serving -= 1
                return None
            self._has_work.wait()

    def _serve(self) -> None:
        name_os_thread()
        held = self._next()
        while held is not None:
            job = held.job
            started = time.monotonic()  # a duration: monotonic, not the Clock
            try:
                result = self._run(held)
            except Exception as exc:  # the run fails, never the slot
                result = _failed_in_worker(job, "failed in the worker", exc)
            held = self._hand_on(Finished(job, result, self._now()), time.monotonic() - started)

    def _hand_on(self, finished: Finished, took: float) -> _Held | None:
        """Hand a run's result to the coordinator and take the next run: in one hold of the
        lock when the coordinator need not be rung (see ``quiet_below``), as a contended lock
        or a ring is a hand-off between threads."""
        with self._lock:
            # The first run measured replaces the prior guess (long: nothing held ahead).
            self.typical_run = took if not self._measured else \
                0.9 * self.typical_run + 0.1 * took
            self._measured = True
            self._running_ids.discard(finished.job.id)
            if self._waiting_for_run:  # a later run of a job waits for its earlier one
                self._waiting_for_run = False
                self._has_work.notify_all()
            self._done.put(finished)
            quiet = self.quiet_below
            if quiet and self._done.qsize() < quiet and len(self._queued) >= self.slots:
                return self._next_locked()
        self._notify()
        return self._next()

    def _run(self, held: _Held) -> RunResult:
        # A started run stays in the register until the coordinator collects its result, so
        # ``held`` is the register's own; ``killed`` is read again under the lock below.
        if held.killed:  # killed while queued: never start it
            return RunResult(None, "killed before it started", b"", 0, interrupted=True)
        job = held.job
        try:
            execution = self._start_job(job)
        except Exception as exc:  # e.g. a NUL in cwd: this run fails, not the slot
            return _failed_in_worker(job, "cannot start", exc)
        with self._lock:
            held.execution = execution
            killed = held.killed
            early = held.signals
        if killed:  # a kill came while the command was starting
            execution.kill()
        for signum in early:  # signals that came before it started (a pause, say)
            execution.send_signal(signum)
        try:
            return execution.wait()
        except Exception as exc:  # e.g. a timeout too long for poll(): this run fails
            try:
                execution.kill()  # whatever it started must not outlive the run
            except Exception:  # the first error is the one to report
                pass
            return _failed_in_worker(job, "failed in the worker", exc)


def _failed_in_worker(job: Job, what: str, exc: Exception) -> RunResult:
    """The result of a run that broke inside the worker rather than in its command. A
    ``QueuectlError`` says what is wrong in queuectl's words: no Python type is named."""
    error = f"{what}: {exc}" if isinstance(exc, QueuectlError) else \
        f"{what}: {type(exc).__name__}: {exc}"
    log.error("job %s run %s: %s", job.id, job.runs, error)  # %s: runs may be inf, by hand
    return RunResult(None, error, b"", 0)
