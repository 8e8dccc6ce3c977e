"""Run the jobs a fuzz test had accepted through a real worker, and find any that did not
get a finished attempt (a jammed slot, a worker that died, a job that never started)."""

from __future__ import annotations

import threading
from collections import Counter

from queuectl import Queue
from queuectl.errors import JobNotFound
from queuectl.models import Job, JobState

_SLOTS = 4


def _runnable(job: Job, now: float) -> bool:
    """Ready now: not waiting for a time or a dependency (those wait by design)."""
    return job.state is JobState.PENDING and job.run_at <= now and job.waiting_on == 0


def run_accepted(queue: Queue, job_ids: set[str], counts: Counter[str],
                 seconds: float = 120.0) -> list[str]:
    """Run the runnable jobs among ``job_ids`` until each has a finished attempt; returns
    the ids of those that got none (and counts them), after ``seconds`` at most."""
    jobs = []
    for job_id in sorted(job_ids):
        try:
            jobs.append(queue.get(job_id))
        except JobNotFound:  # replaced by a later example's job? never: ids are unique
            counts["accepted but not stored"] += 1
    now = queue.clock.now()
    runnable = [job.id for job in jobs if _runnable(job, now)]
    counts["accepted jobs run"] += len(runnable)
    counts["accepted jobs waiting by design (run_at, delay, depends_on)"] += (
        len(jobs) - len(runnable))
    errors: list[BaseException] = []
    done = threading.Event()

    def unfinished() -> list[str]:
        return [job_id for job_id in runnable
                if not any(a.finished_at is not None for a in queue.attempts(job_id))]

    def serve() -> None:
        try:
            with queue.worker(_SLOTS) as worker:
                # run_once runs what it claims to its end: a job that cannot start must
                # fail its attempt, not stop this loop. Jobs retried at once (a tiny
                # backoff_max) would keep it busy: stop once every job has run.
                while not done.is_set() and worker.run_once() and unfinished():
                    pass
        except BaseException as exc:  # a worker that dies is what this test looks for
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    thread.join(seconds)
    jammed = thread.is_alive()
    done.set()
    counts["worker tracebacks"] += len(errors)
    counts["worker jammed"] += jammed
    missing = unfinished()
    counts["accepted jobs that did not run"] += len(missing)
    stuck = [job_id for job_id in runnable
             if queue.get(job_id).state not in (JobState.COMPLETED, JobState.FAILED,
                                                JobState.DEAD)]
    counts["run jobs not completed/failed/dead"] += len(stuck)
    assert not errors, f"the worker died: {errors[0]!r}"
    assert not jammed, "the worker did not finish within its deadline (a jammed slot?)"
    return sorted(set(missing) | set(stuck))
