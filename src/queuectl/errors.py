"""The one exception tree of queuectl.

    QueuectlError                 every error queuectl raises on purpose (exit 1)
    ├── InvalidInput              bad JSON, unknown field, wrong type, bad duration (exit 2)
    │   └── UnknownDependency     depends_on names a job stored nowhere (exit 2)
    ├── JobNotFound               no job with that id (exit 1)
    ├── DuplicateJob              a job with that id exists already (exit 1)
    ├── ScheduleNotFound          no recurring schedule with that name (exit 1)
    ├── DuplicateSchedule         a recurring schedule with that name exists already (exit 1)
    ├── InvalidTransition         the job is not in a state that allows it (exit 1)
    ├── DatabaseNotFound          no database there, and the caller asked not to create one (exit 1)
    ├── WorkerIdTaken             another live worker runs under that worker id (exit 1)
    └── StorageError              the database refused or failed (exit 1)
        ├── DatabaseUnreachable   a PostgreSQL server did not answer (a starting worker waits)
        └── QueueClosed           a Queue was used after its close() (exit 1)

The CLI maps these to exit codes in one place (``cli.main``); the library raises them
unchanged so that callers can tell them apart.
"""

from __future__ import annotations


class QueuectlError(Exception):
    """Base class: the operation failed and nothing was changed."""

    exit_code = 1


class InvalidInput(QueuectlError):
    """The caller's input is malformed; nothing was written."""

    exit_code = 2


class UnknownDependency(InvalidInput):
    """A job's ``depends_on`` names a job stored nowhere, nor earlier in its batch."""

    def __init__(self, dependency: str, message: str | None = None) -> None:
        super().__init__(message or f"depends_on: no job with id {dependency!r}")
        self.dependency = dependency


class JobNotFound(QueuectlError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class DuplicateJob(QueuectlError):
    def __init__(self, job_id: str, message: str | None = None) -> None:
        super().__init__(message or f"a job with id {job_id!r} already exists")
        self.job_id = job_id


class InvalidTransition(QueuectlError):
    """The job exists but its state does not allow the operation."""


class DatabaseNotFound(QueuectlError):
    """``Queue(..., create=False)`` found no database at the location (nothing was created)."""

    def __init__(self, location: str) -> None:
        super().__init__(f"no queue at {location} (check --db or QUEUECTL_DB; "
                         "enqueue creates a new queue)")
        self.location = location


class WorkerIdTaken(QueuectlError):
    """A worker may not start under the id of one that runs (its wake channel's name held on
    this host, or its registration live): they would renew, finish and rescue each other's
    runs, every write being fenced by that id."""

    def __init__(self, worker_id: str, holder: str = "a worker of this host") -> None:
        super().__init__(f"worker id {worker_id!r} is taken: {holder} runs under it (leave "
                         "--worker-id out, and each worker gets an id of its own)")
        self.worker_id = worker_id


class StorageError(QueuectlError):
    """The database could not be opened, read or written."""


class DatabaseUnreachable(StorageError):
    """No connection to the PostgreSQL server could be opened, or it broke, on every try: the
    server is down, starting, or out of reach. A worker starting waits for it to answer."""


class QueueClosed(StorageError):
    """A ``Queue`` was used after ``close()`` (or after its ``with`` block): it no longer
    reaches its database. Open a new ``Queue`` for that."""


class ScheduleNotFound(QueuectlError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no schedule named {name!r}")
        self.name = name


class DuplicateSchedule(QueuectlError):
    def __init__(self, name: str, consequence: str = "") -> None:
        super().__init__(f"a schedule named {name!r} exists already{consequence}")
        self.name = name
