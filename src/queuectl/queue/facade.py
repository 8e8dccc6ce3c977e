"""``Queue``: the parts of the public API, each a module beside this one, in one class."""

from __future__ import annotations

from .admin import Administration
from .changes import JobChanges
from .history import RunHistory
from .reads import JobReads
from .workers import WorkerControl


class Queue(JobReads, JobChanges, WorkerControl, RunHistory, Administration):
    """A job queue in one database. Named queues are ``queue.queues`` (pause, resume, limit)
    and recurring jobs ``queue.schedules`` (add, pause, resume, remove)."""
