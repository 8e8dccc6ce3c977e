"""Deleting finished jobs past their retention (``queuectl purge``, workers' pruning), and
the rollups of runs past theirs (``rollups.MINUTES_KEPT``, ``rollups.HOURS_KEPT``).

Candidates are found by a read, which never holds the write lock, then deleted by a short
write that checks the condition again, so that a job retried meanwhile stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..states import JobState
    from .driver import Driver, Transaction


def purge_batch(db: Driver, state: JobState, before: float, limit: int,
                after_seq: int) -> tuple[int, int | None]:
    """Delete up to ``limit`` jobs in ``state`` updated before ``before`` (oldest first, after
    the cursor ``after_seq``) with their attempts and output, in one short transaction.
    Returns ``(deleted, cursor for the next batch or None at the end)``."""
    params = {"state": state.value, "before": before, "limit": limit, "after": after_seq}
    seqs = [row[0] for row in db.read(lambda tx: tx.all("purge_candidates", params))]
    if not seqs:
        return 0, None

    def delete(tx: Transaction) -> int:
        params = {"state": state.value, "before": before, "seqs": tx.array(seqs)}
        tx.run("purge_output_chunks", params)
        return tx.run("purge_jobs", params)

    return db.write(delete), (seqs[-1] if len(seqs) == limit else None)


FOLDED_PER_WRITE = 86400  # seconds of hourly rollups folded per transaction: a day's rows


def prune_rollups(db: Driver, minutes_before: int, hours_before: int, limit: int) -> bool:
    """Delete up to ``limit`` minute rollups that start before ``minutes_before``, and fold
    a day of the hourly rollups that start before ``hours_before`` into hour 0 (which keeps
    the totals of every run, for /metrics); each in a short transaction of its own.
    Returns whether more may be left."""
    row = db.read(lambda tx: tx.one("oldest_rollups"))
    oldest_minute, oldest_hour = row if row is not None else (None, None)
    more = False
    if oldest_minute is not None and oldest_minute < minutes_before:
        more = db.write(lambda tx: tx.run("prune_run_minutes", {
            "before": minutes_before, "limit": limit})) >= limit
    if oldest_hour is None or oldest_hour >= hours_before:
        return more
    until = min(hours_before, int(oldest_hour) + FOLDED_PER_WRITE)
    db.write(lambda tx: tx.run("fold_run_hours", {"until": until}))
    return True
