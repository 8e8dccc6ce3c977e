"""Verbs on jobs a person (or the library) calls: read one, list, count, cancel, retry, delete.

Each write is one transaction and all or nothing: a job that is missing or in the wrong state
raises and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidTransition, JobNotFound
from ..states import STATE_VALUES, JobState
from .driver import Conflict

if TYPE_CHECKING:
    from ..models import Attempt, Job, RunOutput
    from .driver import Driver, Transaction


def get(db: Driver, job_id: str) -> Job | None:
    """The job, each field of the type queuectl writes (``unreadable.readable``)."""
    from ..unreadable import readable

    found = db.read(lambda tx: tx.jobs("get_job", (job_id,)))
    return readable(found[0]) if found else None


def list_jobs(db: Driver, state: JobState | None, limit: int, offset: int,
              tag: str | None) -> list[Job]:
    from ..unreadable import readable

    params = {"state": state.value if state else None, "tag": tag, "limit": limit,
              "offset": offset}
    query = ("list_jobs_with_tag" if tag is not None
             else "list_jobs_in_state" if state else "list_jobs")
    return [readable(job) for job in db.read(lambda tx: tx.jobs(query, params))]


def count_by_state(db: Driver) -> dict[JobState, int]:
    counts = dict.fromkeys(JobState, 0)
    for state, count in db.read(lambda tx: tx.all("count_by_state")):
        if state in STATE_VALUES:  # a state edited by hand into none is counted in none
            counts[JobState(state)] = count
    return counts


def attempts(db: Driver, job_id: str) -> list[Attempt]:
    from ..models import Attempt

    # One snapshot: a run may finish (and fold its chunks) between the two reads otherwise.
    rows, chunks = db.read(lambda tx: (tx.all("list_attempts", (job_id,)),
                                       tx.all("output_chunks_of_job", (job_id,))),
                           snapshot=True)
    streamed: dict[int, bytes] = {}
    for number, data in chunks:
        streamed[number] = streamed.get(number, b"") + data
    return [Attempt(job_id, number, worker_id, started_at, finished_at, exit_code, error,
                    output or streamed.get(number, b""), output_dropped)
            for (job_id, number, worker_id, started_at, finished_at, exit_code, error, output,
                 output_dropped) in rows]


def run_output(db: Driver, job_id: str, number: int, offset: int,
               most: int | None) -> RunOutput | None:
    """One run's output from byte ``offset`` (or, past ``most`` bytes from the end, its last
    ``most``); None if the run has not started. Only those bytes leave the database."""
    from ..models import RunOutput

    key = {"job_id": job_id, "number": number}

    def read(tx: Transaction) -> RunOutput | None:
        found = tx.all("run_output_size", key)
        if not found:
            return None
        [(finished_at, dropped, folded, streamed)] = found
        size = folded or streamed
        start = min(offset, size)
        if most is not None:
            start = max(start, size - most)
        params = {**key, "start": start}
        if folded:
            [data] = tx.all("run_output_from", params)[0]
        else:
            data = b"".join(bytes(row[0]) for row in tx.all("run_output_chunks_from", params))
        return RunOutput(job_id, number, finished_at is not None, dropped, size, start,
                         bytes(data))

    # One snapshot: the run may end (and fold its chunks into its attempt) between the reads.
    return db.read(read, snapshot=True)


def cancel(db: Driver, job_ids: Sequence[str], now: float) -> list[Job]:
    """Cancel waiting jobs at once; mark running ones for their worker to kill."""

    def cancel_all(tx: Transaction) -> list[Job]:
        canceled: list[Job] = []
        for job_id in job_ids:
            params = {"job_id": job_id, "now": now}
            found = tx.jobs("cancel_waiting_job", params)
            if not found:
                found = tx.jobs("request_cancel_of_running_job", params)
                if found:
                    tx.wake(stop=True)  # "check in": the holder kills the job at once
            if not found:
                raise not_in_state(tx, job_id, "only pending, failed or processing jobs can"
                                                " be canceled")
            canceled += found
        return canceled

    return db.write(cancel_all)


def retry(db: Driver, job_ids: Sequence[str], now: float, *,
          include_canceled: bool) -> list[Job]:
    """Put dead (and, if asked, canceled) jobs back to pending, all or nothing."""
    wanted = "dead or canceled" if include_canceled else "dead"

    def retry_all(tx: Transaction) -> list[Job]:
        # Before the jobs' rows: a dependency ending meanwhile locks it, then them.
        tx.all("lock_dependencies_of_jobs", {"ids": tx.array(job_ids)})
        for job_id in job_ids:
            params = {"job_id": job_id, "now": now, "include_canceled": include_canceled}
            try:
                changed = tx.run("retry_job", params)
            except Conflict:  # its unique_key is taken by a live job: named once rolled back
                raise _UniqueKeyHeld(job_id) from None
            if not changed:
                raise not_in_state(tx, job_id, f"not {wanted}: nothing retried", sep=", ")
        # A retried job whose dependency is still dead or canceled dies again: read it back.
        tx.run("redo_dependency_deaths", {"ids": tx.array(job_ids), "now": now})
        tx.wake()
        stored = {job.id: job for job in tx.jobs("jobs_by_ids", {"ids": tx.array(job_ids)})}
        return [stored[job_id] for job_id in job_ids]

    try:
        return db.write(retry_all)
    except _UniqueKeyHeld as held:
        # Read after the rollback: PostgreSQL takes no statement in a transaction that failed.
        raise InvalidTransition(unique_key_held(db, held.job_id, "nothing retried")) from None


class _UniqueKeyHeld(Exception):
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id


def unique_key_held(db: Driver, job_id: str, outcome: str) -> str:
    """The refusal of ``job_id`` whose unique key a live job holds, naming both, as the
    import does (``key_held``)."""
    job = get(db, job_id)
    key = job.unique_key if job is not None else None
    holder = live_holder(db, key) if key else None
    if key is None or holder is None:  # gone, or let go, since: say what is known
        return f"job {job_id!r}: a live job held its unique key; {outcome}"
    return key_held(job_id, key, holder, outcome)


def live_holder(db: Driver, key: str) -> str | None:
    """The id of the live job (pending, failed or processing) that holds unique key ``key``,
    if any: at most one does (0004's index)."""
    found = db.read(lambda tx: tx.jobs("live_job_with_unique_key", (key,)))
    return found[0].id if found else None


def key_held(job_id: str, key: str | None, holder: str, outcome: str) -> str:
    """The refusal of a job whose unique key another live job holds: "job 'theirs' has
    unique key 'nightly', which live job 'ours' holds already: nothing retried"."""
    return (f"job {job_id!r} has unique key {key!r}, which live job {holder!r} holds "
            f"already: {outcome}")


def retry_all_dead(db: Driver, now: float, tag: str | None) -> list[str]:
    def retry_all(tx: Transaction) -> list[str]:
        tx.all("lock_dependencies_of_dead", {"tag": tag})
        ids = [row[0] for row in tx.all("retry_all_dead", {"now": now, "tag": tag})]
        if ids:
            tx.run("redo_dependency_deaths", {"ids": tx.array(ids), "now": now})
            tx.wake()
        return ids

    # On PostgreSQL, a job given a dead job's unique key in a transaction in flight (an
    # enqueue, another retry) is no live holder to the statement's snapshot, yet breaks the
    # key once it commits: run again, the statement sees it and leaves that dead job dead.
    for _ in range(_RETRIES_ON_CONFLICT - 1):
        try:
            return db.write(retry_all)
        except Conflict:
            continue
    try:
        return db.write(retry_all)
    except Conflict:
        raise InvalidTransition("live jobs kept taking the unique keys of dead jobs while"
                                " they were retried: nothing retried") from None


_RETRIES_ON_CONFLICT = 5


def bury_jobs_waiting_in_vain(db: Driver, now: float) -> list[tuple[str, str]]:
    """See ``Store.bury_jobs_waiting_in_vain``. A read finds them (a scan of the waiting
    jobs, which would hold up every claim in a write), and only then a write buries them."""
    found = [row[0] for row in db.read(lambda tx: tx.all("jobs_waiting_in_vain", {}))]
    if not found:
        return []
    return db.write(lambda tx: [(row[0], row[1]) for row in tx.all(
        "bury_jobs_waiting_in_vain", {"ids": tx.array(found), "now": now})])


def delete(db: Driver, job_ids: Sequence[str]) -> list[str]:
    """Delete finished jobs with their history, all or nothing."""

    def delete_all(tx: Transaction) -> list[str]:
        for job_id in job_ids:
            if tx.one("delete_finished_job", {"job_id": job_id}) is None:
                raise not_in_state(tx, job_id, "only completed, dead or canceled jobs can be"
                                                " deleted; nothing deleted")
        return list(job_ids)

    return db.write(delete_all)


def first_existing(db: Driver, job_ids: Sequence[str]) -> str:
    """The first id of ``job_ids`` that is stored, or repeated in the list (after a
    ``Conflict``, to name the duplicate)."""
    stored = {row[0] for row in db.read(
        lambda tx: tx.all("existing_job_ids", {"ids": tx.array(job_ids)}))}
    seen: set[str] = set()
    for job_id in job_ids:
        if job_id in seen or job_id in stored:
            return job_id
        seen.add(job_id)
    return job_ids[0]


def not_in_state(tx: Transaction, job_id: str, rule: str, sep: str = ": ") -> Exception:
    found = tx.jobs("get_job", (job_id,))
    if not found:
        return JobNotFound(job_id)
    return InvalidTransition(f"job {job_id!r} is {found[0].state.value}{sep}{rule}")
