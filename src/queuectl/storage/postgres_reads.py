"""Reads for the dashboard, stats and ``status --watch`` on the PostgreSQL store.

Kept apart from the store's writes; each function takes the store's ``read`` (one statement
on the store's connection, retried after a lost connection like every other read).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InvalidInput
from ..listing import JobPage, JobQuery, JobRun, RunningJob
from ..stats import FinishedRun
from .base import INTERRUPTED
from .postgres_rows import Q, Row, job_of

Read = Callable[[bytes, Row], list[Row]]
_MAX_SEQ = 2**63 - 1


def _cursor(text: str | None, default: int = 0) -> int:
    """A page cursor back to a seq; a cursor that is not ours is refused, not guessed."""
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"invalid page cursor {text!r}") from None


def search_jobs(read: Read, query: JobQuery, limit: int, *, before: str | None,
                after: str | None) -> JobPage:
    # The cursor is a job's seq; one row more than asked says whether another page exists.
    params: dict[str, Any] = {
        "state": query.state.value if query.state else None,
        "text": query.text.lower() if query.text else None,
        "queue": query.queue,
        "limit": limit + 1,
        "cursor": _cursor(after) if after is not None else _cursor(before, _MAX_SEQ),
    }
    in_state = "_in_state" if query.state else ""
    older: str | None
    newer: str | None
    if after is not None:
        rows = read(Q["search_jobs_newer" + in_state], params)
        more, rows = len(rows) > limit, rows[:limit]
        rows.reverse()
        newer = str(rows[0]["seq"]) if more else None
        older = str(rows[-1]["seq"]) if rows else after
    else:
        rows = read(Q["search_jobs_older" + in_state], params)
        more, rows = len(rows) > limit, rows[:limit]
        older = str(rows[-1]["seq"]) if more else None
        newer = (str(rows[0]["seq"]) if rows else before) if before is not None else None
    return JobPage([job_of(row) for row in rows], older=older, newer=newer)


def running_jobs(read: Read, limit: int) -> list[RunningJob]:
    return [RunningJob(job_of(row), row["run_started_at"])
            for row in read(Q["running_jobs"], {"limit": limit})]


def finished_runs(read: Read, since: float, until: float, limit: int,
                  after: tuple[float, str, int] | None) -> list[FinishedRun]:
    key = after if after is not None and after[0] >= since else (since, "", -1)
    params = {"after_at": key[0], "after_job": key[1], "after_number": key[2],
              "until": until, "limit": limit, "interrupted": INTERRUPTED}
    return [
        FinishedRun(
            job_id=row["job_id"], number=row["number"], queue=row["queue"],
            enqueued_at=row["created_at"], started_at=row["started_at"],
            finished_at=row["finished_at"], succeeded=bool(row["succeeded"]),
            ended_dead=bool(row["ended_dead"]), interrupted=bool(row["interrupted"]),
        )
        for row in read(Q["finished_runs"], params)
    ]


def latest_runs(read: Read, job_ids: Sequence[str]) -> dict[str, JobRun]:
    if not job_ids:
        return {}
    return {row["job_id"]: JobRun(row["started_at"], row["finished_at"])
            for row in read(Q["latest_runs"], {"ids": list(job_ids)})}
