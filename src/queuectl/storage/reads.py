"""Reads for the dashboard, stats and ``status --watch``: pages of jobs, running jobs, finished
runs, and what pending jobs wait for.

Job listings page by keyset on ``seq`` (newest first): each page walks the primary key, or
``jobs_by_state (state, seq)`` when a state is given, and stops after the page, so page 1000
costs what page 1 costs. The cursor is a job's seq as text; one row more than asked says
whether another page exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..unreadable import readable

if TYPE_CHECKING:
    from ..listing import JobPage, JobQuery, JobRun, RunningJob
    from ..rollups import HistogramRow, MinuteCounts
    from ..stats import FinishedRun
    from .driver import Driver, Transaction

_MAX_SEQ = 2**63 - 1


def search_jobs(db: Driver, query: JobQuery, limit: int, *, before: str | None,
                after: str | None) -> JobPage:
    from ..listing import JobPage

    cursor = _cursor(after, "after") if after is not None else _cursor(before, "before", _MAX_SEQ)
    # A bounded scan (JobQuery.scan) stops at a seq; none without a filter to scan for.
    bounded = query.scan is not None and any(
        value is not None for value in (query.text, query.queue, query.tag, query.error))
    span = query.scan if bounded and query.scan is not None else _MAX_SEQ
    params: dict[str, Any] = {
        "state": query.state.value if query.state else None,
        "text": query.text.lower() if query.text else None,
        "queue": query.queue,
        "tag": query.tag,
        "error": query.error.lower() if query.error else None,
        "limit": limit + 1,
        "cursor": cursor,
        "floor": 0,
        "ceiling": _MAX_SEQ,
    }
    direction = "newer" if after is not None else "older"
    name = f"search_jobs_{direction}{'_in_state' if query.state else ''}"

    def read(tx: Transaction) -> tuple[list[Any], int]:
        last = 0
        if bounded:
            row = tx.one("last_job_seq")
            last = int(row[0]) if row else 0
            if after is not None:
                params["ceiling"] = min(_MAX_SEQ, cursor + span)
            else:  # the first page starts its scan at the newest job
                params["cursor"] = min(cursor, last + 1)
                params["floor"] = max(0, params["cursor"] - span)
        return tx.jobs_with(name, params, ("seq",)), last

    found, last = db.read(read, snapshot=bounded)
    more, rows = len(found) > limit, found[:limit]
    older: str | None
    newer: str | None
    stopped: str | None = None
    if after is not None:
        rows.reverse()
        newer = str(rows[0][1][0]) if more else None
        if not more and bounded and params["ceiling"] <= last:
            newer = str(params["ceiling"] - 1)  # scanned up to here: go on from there
            stopped = "newer"
        older = str(rows[-1][1][0]) if rows else after
    else:
        older = str(rows[-1][1][0]) if more else None
        if not more and bounded and params["floor"] > 0:
            older = str(params["floor"] + 1)  # scanned down to here: go on from there
            stopped = "older"
        newer = (str(rows[0][1][0]) if rows else before) if before is not None else None
    return JobPage([readable(job) for job, _ in rows], older=older, newer=newer,
                   scanned=span if stopped else 0, stopped=stopped)


def running_jobs(db: Driver, limit: int) -> list[RunningJob]:
    from ..listing import RunningJob

    found = db.read(lambda tx: tx.jobs_with("running_jobs", {"limit": limit},
                                            ("run_started_at",)))
    return [RunningJob(readable(job), started_at) for job, (started_at,) in found]


def finished_runs(db: Driver, since: float, until: float, limit: int,
                  after: tuple[float, str, int] | None) -> list[FinishedRun]:
    """Runs that finished in ``[since, until)`` by ``(finished_at, job id, run)``, from the
    key ``after`` of the last run of the previous page."""
    from ..stats import FinishedRun
    from .base import INTERRUPTED

    key = after if after is not None and after[0] >= since else (since, "", -1)
    params = {"after_at": key[0], "after_job": key[1], "after_number": key[2],
              "until": until, "limit": limit, "interrupted": INTERRUPTED}
    # The columns come in FinishedRun's order: a window can hold a million runs.
    return [FinishedRun(job_id, number, queue, enqueued_at, started_at, finished_at,
                        bool(succeeded), bool(ended_dead), bool(interrupted))
            for job_id, number, queue, enqueued_at, started_at, finished_at, succeeded,
            ended_dead, interrupted in db.read(lambda tx: tx.all("finished_runs", params))]


def run_minutes(db: Driver, since: int, until: int, origin: float,
                step: float) -> list[MinuteCounts]:
    return _bars(db, "run_minutes", since, until, origin, step)


def run_counts(db: Driver, since: float, until: float) -> list[MinuteCounts]:
    from ..rollups import MinuteCounts
    from .base import INTERRUPTED

    params = {"since": since, "until": until, "interrupted": INTERRUPTED}
    return [MinuteCounts(since, queue, completed, failed, dead, waited, wait_total)
            for queue, completed, failed, dead, waited, wait_total
            in db.read(lambda tx: tx.all("run_counts", params))]


def run_hour_bars(db: Driver, since: int, until: int, origin: float,
                  step: float) -> list[MinuteCounts]:
    return _bars(db, "run_hour_bars", since, until, origin, step)


def _bars(db: Driver, query: str, since: int, until: int, origin: float,
          step: float) -> list[MinuteCounts]:
    """Rollup rows summed into bars of ``step`` seconds from ``origin`` by ``query``."""
    from ..rollups import MinuteCounts

    params = {"since": since, "until": until, "origin": origin, "step": step}
    rows = db.read(lambda tx: tx.all(query, params))
    return [MinuteCounts(origin + bar * step, queue, completed, failed, dead, waited,
                         wait_total)
            for bar, queue, completed, failed, dead, waited, wait_total in rows]


def run_hour_counts(db: Driver, since: int, until: int) -> list[MinuteCounts]:
    from ..rollups import MinuteCounts

    rows = db.read(lambda tx: tx.all("run_hour_counts", {"since": since, "until": until}))
    return [MinuteCounts(since, queue, completed, failed, dead, waited, wait_total)
            for queue, completed, failed, dead, waited, wait_total in rows]


def run_histograms(db: Driver, since: int, until: int) -> list[HistogramRow]:
    from ..rollups import HistogramRow

    rows = db.read(lambda tx: tx.all("run_histograms", {"since": since, "until": until}))
    return [HistogramRow(queue, kind, upper, count, total, top, lower)
            for queue, kind, upper, lower, count, total, top in rows]


def latest_runs(db: Driver, job_ids: Sequence[str]) -> dict[str, JobRun]:
    """When the latest run of each job started and ended; jobs never run are left out."""
    from ..listing import JobRun

    if not job_ids:
        return {}
    rows = db.read(lambda tx: tx.all("latest_runs", {"ids": tx.array(job_ids)}))
    return {job_id: JobRun(started_at, finished_at) for job_id, started_at, finished_at in rows}


def pending_breakdown(db: Driver, now: float) -> dict[str, int]:
    row = db.read(lambda tx: tx.one("pending_breakdown", {"now": now}))
    assert row is not None
    return {"pending": row[0], "scheduled": row[1], "blocked": row[2]}


def _cursor(text: str | None, field: str, default: int = 0) -> int:
    """A page cursor back to a seq; a cursor that is not ours is refused, not guessed."""
    if text is None:
        return default
    # Ours are a seq's digits: int() would also read 1.5 as 1, " 1_0 " as 10, and infinity
    # or 2**70 would fail the query with OverflowError.
    given: object = text
    if (not isinstance(given, str) or not (given.isascii() and given.isdigit())
            or len(given) > len(str(_MAX_SEQ)) or int(given) > _MAX_SEQ):
        from ..jobspec.text import shown

        raise InvalidInput(f"{field}: invalid page cursor {shown(given)}")
    return int(given)
