"""Housekeeping any worker does: rescuing the runs of workers that died.

A worker on this host whose process is gone is rescued at once (its leftover job processes
are killed first, so that no job runs twice at once); any other run is rescued when its lease
expires, and if it is still going on this host (its worker frozen) it is killed first too.
Either way the lost run counts as a failed attempt with the error ``worker lost`` and the
retry policy applies.
"""

from __future__ import annotations

import logging

from .backoff import outcome_of_failure
from .config import Settings
from .models import Job, Outcome
from .procs import HOST, is_alive, kill_job_run, kill_leftover_job_processes
from .storage import Storage

log = logging.getLogger("queuectl.maintenance")

LOST = "worker lost"


def dead_local_workers(storage: Storage, host: str = HOST) -> list[str]:
    return [
        worker.id
        for worker in storage.local_workers(host)
        if not is_alive(worker.pid, worker.pid_started)
    ]


def rescue_lost_runs(storage: Storage, settings: Settings, now: float) -> list[Outcome]:
    """Fail the runs of dead workers and of expired leases; returns what was rescued."""

    def decide(job: Job) -> Outcome:
        # The holder may be alive but frozen (SIGSTOP, a paused VM): if its run is still
        # going on this host, end it before the job can be claimed again.
        kill_job_run(job.id, job.runs)
        return outcome_of_failure(job, now, settings, LOST)

    rescued: list[Outcome] = []
    dead = dead_local_workers(storage)
    if dead:
        for worker_id in dead:
            killed = kill_leftover_job_processes(worker_id)
            if killed:
                log.warning("killed %d leftover job process group(s) of dead worker %s",
                            killed, worker_id)
        rescued += storage.rescue(now, decide, worker_ids=dead)
    # Registrations of workers elsewhere that fell silent long ago are forgotten.
    forget_before = now - max(10 * settings.lease_duration, 3600.0)
    rescued += storage.rescue(now, decide, forget_workers_before=forget_before)
    for outcome in rescued:
        log.warning("rescued job %s (run %d) of a lost worker: now %s",
                    outcome.job_id, outcome.attempt, outcome.state.value)
    return rescued
