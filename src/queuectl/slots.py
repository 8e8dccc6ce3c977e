"""A worker's slots: threads that each run one job at a time, fed by the coordinator.

The pool keeps the register of the jobs the worker holds (queued or running) so that the
coordinator can kill one (a cancel), all (a forced stop), or take back those not started yet.
Slot threads take queued jobs from the front; the coordinator gives back from the back, so
the best jobs stay.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .models import Job
from .runner import Execution, RunResult


@dataclass
class _Held:
    job: Job
    execution: Execution | None = None
    killed: bool = False  # a kill came before the command started: kill it on start
    started: float | None = None  # time.monotonic() when a slot started it


@dataclass(frozen=True)
class Finished:
    job: Job
    result: RunResult
    finished_at: float


class SlotPool:
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
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._queued: deque[Job] = deque()
        self._has_work = threading.Condition(self._lock)
        self._closing = False
        self._done: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # Seconds a job typically runs: a moving average over the last ~10 runs. Assume long
        # jobs until some have been measured.
        self.typical_run = 1.0

    def start(self) -> None:
        self._closing = False
        for number in range(self.slots):
            thread = threading.Thread(target=self._serve, name=f"slot-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Let queued and running jobs finish, then end the threads."""
        with self._lock:
            self._closing = True
            self._has_work.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __len__(self) -> int:
        """Jobs held: running or queued for a slot."""
        return len(self._held)

    def queued(self) -> int:
        """Held jobs that no slot has started yet."""
        return len(self._queued)

    def results_waiting(self) -> int:
        """Runs that ended and wait for ``finished`` to collect them."""
        return self._done.qsize()

    def slots_on_long_jobs(self, longer_than: float) -> int:
        """Slots whose current job has been running for more than ``longer_than`` seconds."""
        limit = time.monotonic() - longer_than
        with self._lock:
            return sum(1 for held in self._held.values()
                       if held.started is not None and held.started < limit)

    def submit(self, jobs: list[Job]) -> None:
        with self._lock:
            for job in jobs:
                self._held[job.id] = _Held(job)
            self._queued.extend(jobs)
            self._has_work.notify(len(jobs))

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
                del self._held[item.job.id]
        return ended

    def take_queued(self, most: int | None = None) -> list[Job]:
        """Take back (up to ``most``) jobs no slot has started yet, the last queued first."""
        taken: list[Job] = []
        with self._lock:
            while self._queued and (most is None or len(taken) < most):
                job = self._queued.pop()
                del self._held[job.id]
                taken.append(job)
        return taken

    def kill(self, job_id: str, run: int) -> bool:
        """Kill the job's process group if this pool holds that run; whether it did."""
        with self._lock:
            held = self._held.get(job_id)
            if held is None or held.job.runs != run or held.killed:
                return False
            held.killed = True
            execution = held.execution
        if execution is not None:
            execution.kill()
        return True

    def kill_all(self) -> None:
        with self._lock:
            everything = list(self._held.values())
            for held in everything:
                held.killed = True
        for held in everything:
            if held.execution is not None:
                held.execution.kill()

    def _next(self) -> Job | None:
        with self._lock:
            while not self._queued:
                if self._closing:
                    return None
                self._has_work.wait()
            job = self._queued.popleft()
            self._held[job.id].started = time.monotonic()
            return job

    def _serve(self) -> None:
        while (job := self._next()) is not None:
            started = time.monotonic()
            result = self._run(job)
            self.typical_run = 0.9 * self.typical_run + 0.1 * (time.monotonic() - started)
            self._done.put(Finished(job, result, self._now()))
            self._notify()

    def _run(self, job: Job) -> RunResult:
        execution = self._start_job(job)
        with self._lock:
            held = self._held.get(job.id)
            if held is not None:
                held.execution = execution
            killed = held is None or held.killed
        if killed:  # a kill came while the command was starting
            execution.kill()
        return execution.wait()
