"""Storing new jobs: their numbers, the plain insert, unique keys and dependencies.

A job given no id (``NUMBERED``) gets the next number of the queue, 1, 2, 3..., as pueue and
tsp number theirs: taken in the transaction that stores it, so numbers never repeat, and kept
above every id that is a number already (given by a user, or imported).

Both ways of enqueueing (returning jobs, or only their ids for bulk enqueues) share ``_insert``;
the common case, jobs with no unique key and no dependency, is one statement per run of jobs
of a kind. The lookup tables behind tags and dependencies (SQLite) and the counts of
dependencies not completed are kept by the database (see the migrations).
"""

from __future__ import annotations

from itertools import groupby
from operator import attrgetter

from ..errors import UnknownDependency
from ..jobspec.newjob import NUMBERED, Enqueued, NewJob

# typing, json (only a job with an env needs it) and enum (JobState: only a caller that wants
# Jobs back) each cost `queuectl enqueue` a millisecond or more.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from ..models import Job
    from .driver import Transaction

# How a job was stored: (state, dependencies not completed, last error), or the live job that
# holds its unique key (then nothing was inserted for it).
_Stored = tuple[str, int, "str | None"]


def insert_jobs(tx: Transaction, jobs: Sequence[NewJob], now: float) -> list[Job]:
    """Insert ``jobs`` in order in ``tx``; returns them as stored.

    A job whose ``unique_key`` matches a live job is not inserted: that job is returned in its
    place, marked ``unique_conflict``. A job with an unknown dependency is refused (nothing of
    the transaction is kept); one whose dependency is dead or canceled is stored dead.
    """
    from dataclasses import replace

    jobs = numbered(tx, jobs)
    inserted = _insert(tx, jobs, now)
    if inserted is None:
        return [_stored(job, now) for job in jobs]
    return [replace(how, unique_conflict=True) if not isinstance(how, tuple)
            else _stored(job, now, *how) for job, how in zip(jobs, inserted, strict=True)]


def insert_job_ids(tx: Transaction, jobs: Sequence[NewJob], now: float) -> Enqueued:
    """``insert_jobs``, returning only the ids (no ``Job`` built): see ``Enqueued``."""
    jobs = numbered(tx, jobs)
    inserted = _insert(tx, jobs, now)
    if inserted is None:
        return Enqueued([job.id for job in jobs], len(jobs))
    ids = [job.id if isinstance(how, tuple) else how.id
           for job, how in zip(jobs, inserted, strict=True)]
    return Enqueued(ids, sum(isinstance(how, tuple) for how in inserted))


def numbered(tx: Transaction, jobs: Sequence[NewJob]) -> Sequence[NewJob]:
    """``jobs``, each given no id numbered with the queue's next number (see the module)."""
    wanted = sum(1 for job in jobs if job[0] == NUMBERED)
    if wanted < len(jobs):
        keep_numbers_above(tx, (job[0] for job in jobs))
    if not wanted:
        return jobs
    row = tx.one("take_job_numbers", {"count": wanted})
    assert row is not None  # the migration stores the one row
    numbers = map(str, range(row[0], row[0] + wanted))
    make = NewJob._make  # a fifth of the cost of NewJob(...): bulk enqueues number every job
    if wanted == len(jobs):
        return [make((number, *job[1:])) for number, job in zip(numbers, jobs, strict=True)]
    return [make((next(numbers), *job[1:])) if job[0] == NUMBERED else job for job in jobs]


def keep_numbers_above(tx: Transaction, job_ids: Iterable[str]) -> None:
    """Keep the next number above ``job_ids`` that are numbers, so that none is given twice."""
    highest = max((int(job_id) for job_id in job_ids if _is_number(job_id)), default=0)
    if highest:
        tx.run("keep_job_numbers_above", {"number": highest})


def _is_number(job_id: str) -> bool:
    # What the store could hand out: no leading zero, and within the 64-bit counter.
    return job_id.isdigit() and job_id[0] != "0" and len(job_id) <= 18


def _insert(tx: Transaction, jobs: Sequence[NewJob], now: float) -> list[_Stored | Job] | None:
    """Insert ``jobs`` in order; None if every one was stored as given (pending, waiting on
    nothing), else for each job how it was stored, or the live job that holds its key."""
    created = len(jobs)
    if not any(job.unique_key or job.depends_on for job in jobs):
        # The common case: one statement per run of jobs of a kind, in order (seq is FIFO).
        for plain, run in groupby(jobs, attrgetter("plain")):
            if plain:
                tx.many("insert_plain_job", [(*job[:4], now) for job in run])
            else:
                batch = list(run)
                tx.many("insert_job", [_row(tx, job, now) for job in batch])
                _link(tx, batch)
        inserted = None
    else:
        inserted = [_insert_one(tx, job, now) for job in jobs]
        created = sum(isinstance(how, tuple) for how in inserted)
    if created:
        tx.many("count_new_jobs", [{"count": created}])  # jobs per queue and state (0009)
        # One worker per job ready now; jobs due later need one worker to learn when.
        ready = sum(not job.depends_on and job.first_run_at(now) <= now for job in jobs)
        tx.wake(jobs=max(ready, 1))
    return inserted


def _insert_one(tx: Transaction, job: NewJob, now: float) -> _Stored | Job:
    waiting_on, dead = _dependencies(tx, job)
    row = _row(tx, job, now, waiting_on, dead)
    while tx.run("insert_job", row) == 0:
        live = tx.jobs("live_job_with_unique_key", (job.unique_key,))
        if live:
            return live[0]
        # PostgreSQL: the live job finished between the two statements, freeing the key.
    _link(tx, [job])
    if dead:
        return "dead", waiting_on, f"dependency {dead} dead"
    return "pending", waiting_on, None


def _link(tx: Transaction, jobs: Sequence[NewJob]) -> None:
    """Fill the lookup tables behind tags and dependencies, where the database keeps them
    (SQLite; PostgreSQL indexes the arrays in the job's row, and its statements are empty)."""
    if any(job.tags for job in jobs):
        tx.many("insert_tags", [(tag, job.id) for job in jobs for tag in job.tags])
    if any(job.depends_on for job in jobs):
        tx.many("insert_dependencies",
                [(other, job.id) for job in jobs for other in job.depends_on])


def _dependencies(tx: Transaction, job: NewJob) -> tuple[int, str | None]:
    """``(dependencies not completed, a dead or canceled one)``; unknown ids are refused.

    The dependencies are marked as having dependents (only such jobs pay for the trigger
    that keeps counts right), and on PostgreSQL stay locked until this enqueue commits.
    """
    if not job.depends_on:
        return 0, None
    rows = tx.all("dependency_states", {"ids": tx.array(job.depends_on)})
    states: dict[str, str] = {job_id: state for job_id, state in rows}
    for other in job.depends_on:
        if other not in states:
            raise UnknownDependency(other)
    dead = next((o for o in job.depends_on if states[o] in ("dead", "canceled")), None)
    return sum(states[o] != "completed" for o in job.depends_on), dead


def _row(tx: Transaction, job: NewJob, now: float, waiting_on: int = 0,
         dead: str | None = None) -> tuple[Any, ...]:
    """The values of ``insert_job``, in the order of its columns."""
    return (
        job.id, job.command, "dead" if dead else "pending", job.max_retries,
        job.first_run_at(now), now, now, job.cwd,
        _env_text(job.env) if job.env else None,
        job.timeout,
        tx.array(job.fatal_exit_codes) if job.fatal_exit_codes else None,
        job.retry_on_timeout, job.output_limit,
        job.priority, job.queue, job.unique_key,
        tx.array(job.tags) if job.tags else None,
        tx.array(job.depends_on) if job.depends_on else None,
        waiting_on, f"dependency {dead} dead" if dead else None,
        job.backoff_base, job.backoff_max, job.jitter, job.on_finish, job.webhook,
    )


def _env_text(env: Mapping[str, str]) -> str:
    import json

    return json.dumps(dict(env), sort_keys=True)


def _stored(job: NewJob, now: float, state: str = "pending", waiting_on: int = 0,
            last_error: str | None = None) -> Job:
    from ..models import Job
    from ..states import JobState

    return Job(
        id=job.id, command=job.command, state=JobState(state), attempts=0,
        max_retries=job.max_retries, created_at=now, updated_at=now,
        run_at=job.first_run_at(now), priority=job.priority, cwd=job.cwd, env=job.env,
        timeout=job.timeout, last_error=last_error,
        fatal_exit_codes=job.fatal_exit_codes, retry_on_timeout=job.retry_on_timeout,
        output_limit=job.output_limit, queue=job.queue, unique_key=job.unique_key,
        tags=job.tags, depends_on=job.depends_on, waiting_on=waiting_on,
        backoff_base=job.backoff_base, backoff_max=job.backoff_max, jitter=job.jitter,
        on_finish=job.on_finish, webhook=job.webhook,
    )
