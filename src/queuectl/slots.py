"""A worker's slots: threads that each run one job at a time, fed by the coordinator.

The pool keeps the register of the jobs the worker holds (queued or running) so that the
coordinator can kill one (a cancel), all (a forced stop), or take back those not started yet.
Only the coordinator thread calls its methods, except ``kill_all`` and the slot threads'
own work; a lock keeps the register consistent between them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .models import Job
from .runner import Execution, RunResult


@dataclass
class _Held:
    job: Job
    execution: Execution | None = None
    killed: bool = False  # a kill came before the command started: kill it on start


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
        self._todo: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # Seconds a job typically runs: a moving average over the last ~10 runs. Assume long
        # jobs until some have been measured.
        self.typical_run = 1.0

    def start(self) -> None:
        for number in range(self.slots):
            thread = threading.Thread(target=self._serve, name=f"slot-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Let queued and running jobs finish, then end the threads."""
        for _ in self._threads:
            self._todo.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __len__(self) -> int:
        """Jobs held: running or queued for a slot."""
        return len(self._held)

    def submit(self, jobs: list[Job]) -> None:
        with self._lock:
            for job in jobs:
                self._held[job.id] = _Held(job)
        for job in jobs:
            self._todo.put(job)

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

    def take_queued(self) -> list[Job]:
        """Take back the jobs no slot has started yet."""
        queued: list[Job] = []
        while True:
            try:
                job = self._todo.get_nowait()
            except queue.Empty:
                break
            if job is None:  # close() is under way; leave its sentinel for a slot
                self._todo.put(None)
                break
            queued.append(job)
        with self._lock:
            for job in queued:
                del self._held[job.id]
        return queued

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

    def _serve(self) -> None:
        while (job := self._todo.get()) is not None:
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
