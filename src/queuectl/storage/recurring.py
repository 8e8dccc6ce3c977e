"""Recurring schedules as stored, and the tick key that enqueues each tick once.

A schedule's ``next_run_at`` is its tick key: a worker enqueues a tick only by moving
``next_run_at`` on from the exact value it read, in the transaction that inserts the job, so
every tick is enqueued once however many workers race for it (see ``queuectl.recurring``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .enqueue import insert_jobs

if TYPE_CHECKING:
    from ..models import Job, NewJob
    from ..recurring import Schedule
    from .driver import Driver, Transaction


def schedule_of(row: Sequence[Any]) -> Schedule:
    """The schedule in a row of ``SELECT *`` of the schedules table."""
    from ..recurring import Schedule

    name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id, created = row
    return Schedule(name, _template(job), cron, every, tz, bool(paused), next_run_at,
                    last_run_at, last_job_id, created)


def _template(stored: str) -> Any:
    """The job template stored as ``stored``, its JSON; text that is not JSON (the column is
    plain text: written by hand) comes back as it is, so that the housekeeper refuses that
    schedule's ticks alone rather than failing to read every due schedule."""
    try:
        return json.loads(stored)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return stored


def add(db: Driver, schedule: Schedule, now: float) -> bool:
    """Store a new schedule; False (nothing changed) if the name is taken."""
    params = {
        "name": schedule.name, "job": json.dumps(dict(schedule.job), sort_keys=True),
        "cron": schedule.cron, "every": schedule.every, "tz": schedule.tz,
        "next_run_at": schedule.next_run_at, "now": now,
    }

    def write(tx: Transaction) -> bool:
        added = tx.run("insert_schedule", params) == 1
        if added:
            tx.wake()  # so that workers learn of its first tick now
        return added

    return db.write(write)


def schedules(db: Driver) -> list[Schedule]:
    return [schedule_of(row) for row in db.read(lambda tx: tx.all("list_schedules"))]


def get(db: Driver, name: str) -> Schedule | None:
    row = db.read(lambda tx: tx.one("get_schedule", (name,)))
    return schedule_of(row) if row is not None else None


def remove(db: Driver, name: str) -> bool:
    return db.write(lambda tx: tx.run("delete_schedule", (name,))) == 1


def set_paused(db: Driver, name: str, paused: bool, next_run_at: float | None) -> bool:
    """Pause, or resume with the next tick at ``next_run_at``; False if no such schedule."""
    params = {"name": name, "paused": paused, "next_run_at": next_run_at}

    def write(tx: Transaction) -> bool:
        changed = tx.run("set_schedule_paused", params) == 1
        if changed and not paused:
            tx.wake()
        return changed

    return db.write(write)


def due(db: Driver, now: float) -> tuple[list[Schedule], float | None]:
    """The schedules whose tick has come, and the earliest tick of all; see ``Store``."""
    rows = db.read(lambda tx: tx.all("due_schedules", {"now": now}))
    # next_run_at: rows come in its order. One that is not a number (SQLite: text written
    # by hand) is due and sorts last: the first number is the earliest tick.
    first = next((float(row[6]) for row in rows if isinstance(row[6], (int, float))), None)
    return [schedule_of(row[:-1]) for row in rows if row[-1]], first


def enqueue_tick(db: Driver, name: str, tick: float, next_run_at: float, job: NewJob | None,
                 now: float) -> Job | None:
    """Move schedule ``name`` from ``tick`` to ``next_run_at`` and enqueue ``job``, in one
    transaction, only if no one has taken this tick yet; see ``Store.enqueue_tick``."""
    params = {"name": name, "tick": tick, "next_run_at": next_run_at}

    def write(tx: Transaction) -> Job | None:
        if tx.run("take_tick", params) != 1 or job is None:
            return None
        if tx.one("existing_job_ids", {"ids": tx.array([job.id])}) is not None:
            # This tick was enqueued before (a schedule removed and added again): enqueue
            # nothing twice; the schedule moves on.
            return None
        stored = insert_jobs(tx, [job], now)[0]
        if not stored.unique_conflict:  # else the live job with its key came back: no run
            tx.run("record_tick_job", {"name": name, "tick": tick, "job_id": stored.id})
        return stored

    return db.write(write)
