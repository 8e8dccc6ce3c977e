"""What a listing of jobs asks for and returns: the jobs page, ``status --watch``, the API.

Pages are cut by keyset, not by offset: a cursor names where the previous page ended, so the
thousandth page costs what the first one does, even with a million jobs. Cursors are opaque
strings made by the storage backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InvalidInput
from .jobspec.limits import MAX_LISTED
from .jobspec.text import queue_name
from .jobspec.text import tag as tag_name
from .models import Job, JobState
from .units import whole_number

if TYPE_CHECKING:
    from .storage import Storage


# Jobs a dashboard page filtered by text or queue looks at, at most (JobQuery.scan): about
# 80 ms of matching at a million jobs, where a match found nowhere would read them all.
PAGE_SCAN = 100_000


@dataclass(frozen=True)
class JobQuery:
    """Which jobs to list; each field given narrows the listing.

    ``text`` matches a substring of the id or the command, ignoring the case of ASCII letters;
    ``queue`` is the name of a queue, matched exactly; ``tag`` one of the job's tags;
    ``error`` a substring of the error it is in (``Job.current_error``, what lists show: a
    failed or dead job's last error), ignoring case as ``text`` does. No index serves
    these four: with ``scan``, a page looks at no more than that many jobs past its cursor
    (in insertion order), and when it found too few there, its cursor to go on from is where
    it stopped.
    """

    state: JobState | None = None
    text: str | None = None
    queue: str | None = None
    tag: str | None = None
    error: str | None = None
    scan: int | None = None


@dataclass(frozen=True)
class JobPage:
    """Jobs newest first, with cursors to the pages of older and newer jobs (None: no more)."""

    jobs: list[Job]
    older: str | None = None
    newer: str | None = None
    # A bounded scan (JobQuery.scan) that stopped at its bound: how many jobs it looked at,
    # and which way ("older" or "newer") more may match. The page may then hold fewer jobs
    # than asked for, and still have a cursor that way.
    scanned: int = 0
    stopped: str | None = None


@dataclass(frozen=True)
class JobRun:
    """When a job's latest run started, and when it ended (None while it runs)."""

    started_at: float
    finished_at: float | None = None


@dataclass(frozen=True)
class JobListing:
    """What ``queuectl list`` shows: the newest jobs that match, whether more match than were
    asked for, and the latest run of each job that ran (by job id)."""

    jobs: list[Job]
    more: bool
    runs: dict[str, JobRun]


@dataclass(frozen=True)
class RunningJob:
    """A job being run right now, and when its current run started."""

    job: Job
    started_at: float


def search_jobs(storage: Storage, state: JobState | str | None, text: str | None, *,
                queue: str | None, before: str | None, after: str | None,
                limit: int, tag: str | None = None, error: str | None = None,
                scan: int | None = None) -> JobPage:
    """``Queue.search_jobs``: a page by keyset, its arguments checked."""
    if state is not None:
        state = JobState.parse(state)
    whole_number(limit, "limit", 1, 1000, expected=None)
    if before is not None and after is not None:
        raise InvalidInput("give before or after, not both")
    if scan is not None:  # NaN looked at every job; 2**70 failed the query (OverflowError)
        whole_number(scan, "scan", 1, MAX_LISTED)
    query = JobQuery(state=state, text=text.strip() or None if text else None,
                     queue=None if queue is None else queue_name(queue),
                     tag=None if tag is None else tag_name(tag, "tag"),
                     error=error.strip() or None if error else None, scan=scan)
    return storage.search_jobs(query, limit, before=before, after=after)


def job_listing(storage: Storage, state: JobState | str | None, *, queue: str | None,
                tag: str | None, limit: int) -> JobListing:
    """``Queue.listing``: what ``queuectl list`` shows. ``limit`` is bounded (1 to
    MAX_LISTED) by Queue.listing, its one caller (the CLI's list, dlq list and the latest
    job go through it; the dashboard lists with search_jobs)."""
    if state is not None:
        state = JobState.parse(state)
    name = None if queue is None else queue_name(queue, "--queue")
    if tag is None:
        page = storage.search_jobs(JobQuery(state=state, queue=name), limit)
        jobs, more = page.jobs, page.older is not None
    else:
        jobs, more = _jobs_with_tag(storage, tag_name(tag, "--tag"), state, name, limit)
    return JobListing(jobs, more, storage.latest_runs([job.id for job in jobs]))


def _jobs_with_tag(storage: Storage, tag: str, state: JobState | None, queue: str | None,
                   limit: int) -> tuple[list[Job], bool]:
    found: list[Job] = []
    offset, page = 0, max(limit + 1, 500)
    while True:  # pages of the tag's jobs, kept when in the queue, until one too many
        jobs = storage.list_jobs(state, page, offset, tag=tag)
        found += [job for job in jobs if queue is None or job.queue == queue]
        if len(found) > limit or len(jobs) < page:
            return found[:limit], len(found) > limit
        offset += page
