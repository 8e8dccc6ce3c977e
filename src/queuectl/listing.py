"""What a listing of jobs asks for and returns: the jobs page, ``status --watch``, the API.

Pages are cut by keyset, not by offset: a cursor names where the previous page ended, so the
thousandth page costs what the first one does, even with a million jobs. Cursors are opaque
strings made by the storage backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Job, JobState


@dataclass(frozen=True)
class JobQuery:
    """Which jobs to list; each field given narrows the listing.

    ``text`` matches a substring of the id or the command, ignoring the case of ASCII letters;
    ``queue`` is the name of a queue, matched exactly.
    """

    state: JobState | None = None
    text: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class JobPage:
    """Jobs newest first, with cursors to the pages of older and newer jobs (None: no more)."""

    jobs: list[Job]
    older: str | None = None
    newer: str | None = None


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
