"""Deleting finished jobs past their retention (``queuectl purge``, workers' pruning).

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
