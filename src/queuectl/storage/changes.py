"""Verbs that change stored jobs on a person's request: restart, remove, edit.

Each is one transaction and all or nothing, like the verbs of ``jobs.py``: a job that is
missing, or in a state that does not allow the change, raises and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import InvalidTransition, JobNotFound
from ..jobspec.newjob import NUMBERED, NewJob
from ..states import TERMINAL_STATES
from .enqueue import insert_jobs
from .jobs import key_held, not_in_state

if TYPE_CHECKING:
    from ..models import Job
    from .driver import Driver, Transaction


def restart(db: Driver, job_ids: Sequence[str], now: float) -> list[Job]:
    """New jobs, numbered, with the specs of finished jobs; each records where it came from.

    The new job runs as soon as a worker is free: it keeps the command, its settings, queue,
    priority, tags and unique key, but not the dependencies (its original ran after them
    already). All or nothing: a job whose unique key a live job holds (or another job
    restarted here would hold) is refused, ``InvalidTransition`` naming the key and the
    holder, and nothing is restarted (one live job per key).
    """

    def write(tx: Transaction) -> list[Job]:
        found = {job.id: job for job in tx.jobs("jobs_by_ids", {"ids": tx.array(job_ids)})}
        for job_id in job_ids:
            job = found.get(job_id)
            if job is None:
                raise JobNotFound(job_id)
            if job.state not in TERMINAL_STATES:
                raise InvalidTransition(
                    f"job {job_id!r} is {job.state.value}: only completed, dead or canceled"
                    " jobs can be restarted; nothing restarted")
        stored = insert_jobs(tx, [_again(found[job_id]) for job_id in job_ids], now)
        new_ids = {job.id: original for original, job in zip(job_ids, stored, strict=True)
                   if not job.unique_conflict}
        for original, job in zip(job_ids, stored, strict=True):
            if job.unique_conflict:  # raised: the write is rolled back, nothing restarted
                raise InvalidTransition(_key_held(original, found[original].unique_key,
                                                  job.id, new_ids.get(job.id)))
        restarted = []
        for original, job in zip(job_ids, stored, strict=True):
            tx.run("mark_restart", {"job_id": job.id, "restarted_from": original})
            restarted.append(replace(job, restarted_from=original))
        return restarted

    return db.write(write)


def _key_held(job_id: str, key: str | None, holder: str, restarted_as: str | None) -> str:
    if restarted_as is not None:  # the holder is the restart of another id given
        return (f"jobs {restarted_as!r} and {job_id!r} have unique key {key!r}, and one live "
                "job may hold it: nothing restarted")
    return key_held(job_id, key, holder, "nothing restarted")


def _again(job: Job) -> NewJob:
    return NewJob(
        NUMBERED, job.command, job.max_retries, job.cwd, job.env, job.timeout,
        job.fatal_exit_codes, job.retry_on_timeout, job.output_limit, job.priority, job.queue,
        unique_key=job.unique_key, tags=job.tags, backoff_base=job.backoff_base,
        backoff_max=job.backoff_max, jitter=job.jitter, on_finish=job.on_finish,
        webhook=job.webhook,
    )


def remove(db: Driver, job_ids: Sequence[str]) -> list[str]:
    """Delete jobs that are not running, with their history. A job that a live job still
    waits on (and that is not removed with it) is refused: that job would wait for ever."""
    removing = set(job_ids)

    def write(tx: Transaction) -> list[str]:
        tx.all("lock_jobs_to_remove", {"ids": tx.array(job_ids)})
        for job_id in job_ids:
            waiting = [row[0] for row in tx.all("live_dependents", {"job_id": job_id})
                       if row[0] not in removing]
            if waiting:
                raise InvalidTransition(
                    f"job {job_id!r}: job {waiting[0]!r} waits on it (remove or cancel that"
                    " one too); nothing removed")
            if tx.one("remove_job", {"job_id": job_id}) is None:
                raise not_in_state(tx, job_id, "running jobs cannot be removed (cancel it"
                                               " first); nothing removed")
        return list(job_ids)

    return db.write(write)


def edit(db: Driver, job_id: str, job: NewJob, run_at: float, now: float) -> Job:
    """Store the editable fields of ``job`` (checked as an enqueue checks them) and
    ``run_at`` on the pending or failed job ``job_id``."""

    def write(tx: Transaction) -> Job:
        params = {
            "job_id": job_id, "command": job.command, "priority": job.priority,
            "queue": job.queue, "run_at": run_at, "max_retries": job.max_retries,
            "timeout": job.timeout, "retry_on_timeout": job.retry_on_timeout,
            "fatal_exit_codes": tx.array(job.fatal_exit_codes) if job.fatal_exit_codes
            else None,
            "backoff_base": job.backoff_base, "backoff_max": job.backoff_max,
            "jitter": job.jitter, "now": now,
        }
        edited = tx.jobs("edit_job", params)
        if not edited:
            raise not_in_state(tx, job_id, "only pending or failed jobs can be edited;"
                                           " nothing changed")
        tx.wake()  # it may run sooner, or in a queue another worker serves
        return edited[0]

    return db.write(write)
