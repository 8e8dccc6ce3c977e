"""Completion hooks in the store: which finished jobs have a hook to run, taking them (once
each: hooks run at most once per run), and recording what came of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Job
    from .driver import Driver


def any_due(db: Driver) -> bool:
    """Whether a finished job's hook waits to run (read through a partial index holding only
    jobs with hooks not run yet: free where no job has a hook)."""
    return db.read(lambda tx: tx.one("any_hook_due")) is not None


def take_due(db: Driver, limit: int) -> list[Job]:
    """Up to ``limit`` finished jobs whose hooks are due, marked taken for their last run."""
    return db.write(lambda tx: tx.jobs("take_due_hooks", {"limit": limit}))


def record(db: Driver, job_id: str, result: str) -> None:
    db.write(lambda tx: tx.run("record_hook", {"job_id": job_id, "result": result}))
