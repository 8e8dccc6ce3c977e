"""``queuectl.Queue``: the public library API. The CLI and the dashboard are its clients.

>>> from queuectl import Queue
>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     job = q.enqueue("echo hello", max_retries=2)
...     q.get(job.id).state
<JobState.PENDING: 'pending'>

``Queue`` is one class made of a part per concept. This file holds ``QueueCore``: opening a
queue, its settings, adding jobs, and the two reads the other parts build on (one job, the
workers). Every other part is a subclass of it, in a module of its own:

    reads.py     JobReads: runs and output, listings, searches, counts, status
    changes.py   JobChanges: retry from the DLQ, restart, remove, edit, delete, cancel, wait
    workers.py   WorkerControl: running and stopping workers, signals, parallelism
    history.py   RunHistory: finished runs, stats, the dashboard's series, run totals
    admin.py     Administration: settings, named queues, schedules, purge, schema, export
    facade.py    Queue: all of them in one class

Each part uses only what ``QueueCore`` holds (``storage``, ``clock``, ``settings``, ``get``,
``workers``), so each reads on its own. ``Queue`` is imported on first use (PEP 562), as
``storage.Storage`` is: ``queuectl enqueue`` opens a ``QueueCore`` and loads no other part.
"""

from __future__ import annotations

import os

from .. import config
from ..clock import Clock
from ..enqueuing import Enqueuer
from ..errors import DatabaseNotFound, InvalidInput, JobNotFound, QueueClosed
from ..jobspec.newjob import Enqueued
from ..jobspec.parse import JOB_SETTINGS
from ..jobspec.text import lookup_id
from ..storage import locate, open_storage, redact

# typing, and the enum behind JobState, cost `queuectl enqueue` more than its insert: the
# names below are for the type checker only (annotations are never evaluated).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType
    from typing import Any, Literal, overload

    from typing_extensions import Self

    from queuectl.worker.supervisor import Detached

    from ..jobspec.parse import JsonLines
    from ..models import Job, WorkerInfo, WorkerList
    from ..storage import Storage
    from .facade import Queue

__all__ = ["Queue", "QueueCore"]


class QueueCore:
    """A job queue in one database, as far as adding jobs to it goes; ``Queue`` has every
    verb."""

    def __init__(
        self,
        database: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        create: bool = True,
    ) -> None:
        """Open the queue at ``database`` (a path; default: ``QUEUECTL_DB``, else per user).

        With ``create=False`` a SQLite file that does not exist is not created (nor its
        folder): ``DatabaseNotFound`` is raised instead, as read commands want.
        """
        self._environ = os.environ if environ is None else environ
        if not create:
            _refuse_missing_database(database)
        self.storage: Storage = open_storage(database)
        # Times are the database's (on PostgreSQL the server's clock, so that hosts whose
        # clocks disagree still agree on leases and run times), unless a clock is given.
        self._given_clock = clock
        self.clock = clock or self.storage.clock()
        self._enqueuer = Enqueuer(self.storage, self.clock, self._job_settings)

    @property
    def url(self) -> str:
        """The database location as given, password included (to open it again)."""
        return self.storage.url

    @property
    def location(self) -> str:
        """The database location fit to print: without a password."""
        return redact(self.storage.url)

    def close(self) -> None:
        """Close the database connection. A closed queue stays closed: using it again raises
        ``QueueClosed`` (it reopened its database without a word), and closing it again does
        nothing, as at the end of ``with Queue(...)``."""
        self.storage.close()
        self.storage = _CLOSED  # type: ignore[assignment]  # its every verb raises QueueClosed
        self._enqueuer = Enqueuer(self.storage, self.clock, self._job_settings)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def settings(self) -> config.Settings:
        """The settings in effect; ``InvalidInput`` if one is refused (see ``config.resolve``):
        for what reads them all, such as the worker an autostart starts (what reads only some
        asks ``settings_for`` them)."""
        return config.resolve(self.storage.config_items(), self._environ)

    def settings_for(self, keys: Iterable[str]) -> config.Settings:
        """The settings, with ``InvalidInput`` only for a refused one of ``keys`` (those the
        caller reads): any other refused is at its default, as in ``readable_settings``. An
        enqueue reads a job's three (``JOB_SETTINGS``), an edit at most ``max_retries``, a
        schedule being added none; a lease stored by hand stops none of them."""
        return config.resolve(self.storage.config_items(), self._environ, only=tuple(keys))

    def _job_settings(self) -> tuple[config.Settings, str | None]:
        """The settings a job takes (``JOB_SETTINGS``), ``InvalidInput`` for a refused hook
        setting; and why ``max_retries`` is refused, if it is: only a job that takes it is
        refused then, not one that gives its own."""
        settings, refused = self.readable_settings()
        for key in JOB_SETTINGS:
            if key in refused and key != "max_retries":
                raise InvalidInput(refused[key][1])
        retries = refused.get("max_retries")
        return settings, None if retries is None else retries[1]

    def enqueue_settings(self) -> tuple[config.Settings, dict[str, str]]:
        """For ``queuectl enqueue``, before it stores anything: the settings, and those
        refused that it does not read, each with why (to warn of, as ``config list`` does).
        ``InvalidInput`` for one it reads: a job's hooks (``JOB_SETTINGS``) and
        ``autostart``, and with ``autostart`` on any at all, since the worker it starts reads
        every one. A refused ``max_retries`` is neither refused here nor warned of: the
        enqueue refuses it for a job that takes it, in one line, and a job that gives its
        own never reads it."""
        settings, refused = self.readable_settings()
        reads = (*JOB_SETTINGS, "autostart")
        for key, (_, why) in refused.items():
            if (key in reads and key != "max_retries") or settings.autostart:
                raise InvalidInput(why)
        return settings, {key: why for key, (_, why) in refused.items()
                          if key != "max_retries"}

    def config_refused(self) -> dict[str, str]:
        """The settings ``config set`` would refuse (stored by hand, or in the environment),
        each with why: ``{"lease_duration": "lease_duration: expected a duration ..."}``."""
        return refusal_reasons(self.readable_settings()[1])

    def readable_settings(self) -> tuple[config.Settings, dict[str, tuple[str, str]]]:
        """The settings with each refused one (stored by hand) at its default, and those
        (``config.resolve_readable``): for what only reads with them, which must work until
        the value is fixed (``status``, ``worker list``, ``worker stop``, ``config list``)."""
        return config.resolve_readable(self.storage.config_items(), self._environ)

    # -- enqueue -----------------------------------------------------------------------------

    def enqueue(self, job: str | Mapping[str, Any], /, **fields: Any) -> Job:
        """Add one job: a command (``q.enqueue("make test", max_retries=1)``), or a job's JSON
        object (``q.enqueue({"command": "make test", "max_retries": 1})``), with ``fields``
        added (a field given in both is refused). It runs in ``cwd`` (default: the current
        directory).

        The fields: ``id``, ``max_retries``, ``cwd``, ``env``, ``timeout``,
        ``fatal_exit_codes``, ``retry_on_timeout``, ``output_limit``, and those of
        ``queuectl.jobspec.fields``: ``priority``, ``queue``, ``delay`` or ``run_at``,
        ``depends_on``, ``unique_key``, ``tags``, ``backoff_base``, ``backoff_max``,
        ``jitter``. With a ``unique_key`` that a live job holds already, that job is returned,
        with ``unique_conflict`` set, and nothing is added.
        """
        return self._enqueuer.one(job, fields)

    if TYPE_CHECKING:  # the type checker's overloads; at run time only the last def counts
        @overload
        def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | JsonLines, *,
                         ids_only: Literal[False] = False) -> list[Job]: ...

        @overload
        def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | JsonLines, *,
                         ids_only: Literal[True]) -> Enqueued: ...

    def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | JsonLines, *,
                     ids_only: bool = False) -> list[Job] | Enqueued:
        """Add many jobs in one transaction: all of them, or (on any error) none.

        ``jobs`` are JSON objects (mappings), or lines of JSON (a text file, say, or a binary
        one of UTF-8: blank lines are skipped, and errors name the line). With ``ids_only`` no
        ``Job`` is built for the caller, which makes big batches several times faster (see
        ``Enqueued``).
        """
        return self._enqueuer.many(jobs, ids_only=ids_only)

    @staticmethod
    def load_json(text: str) -> Any:
        """The value in a job's JSON text, for ``enqueue`` (``queuectl enqueue JSON``);
        ``InvalidInput`` in one line (``invalid JSON: Expecting value at column 1``) if it is
        not JSON, is nested too deeply or is larger than a job may be."""
        from ..jobspec.parse import load_json

        return load_json(text)

    def autostart_worker(self) -> Detached | None:
        """With the ``autostart`` setting (N slots), start a detached worker on this host if
        none runs here for this database (``queuectl enqueue`` calls this); else None."""
        from queuectl.worker.control import autostart_worker

        settings = self.settings_for(("autostart",))
        if settings.autostart:  # the worker it starts reads every setting (a lease stored by
            settings = self.settings  # hand would stop it): refused here, in one line
        return autostart_worker(self.storage, settings, self.clock)

    # -- the reads the other parts build on --------------------------------------------------

    def get(self, job_id: str) -> Job:
        lookup_id(job_id)
        job = self.storage.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def workers(self) -> list[WorkerInfo]:
        """Registered workers; ``state`` is running, stopping, or lost (heartbeat older than
        the lease: with a ``lease_duration`` stored by hand that ``config set`` would refuse,
        the default's, as ``config_refused`` tells, or ``worker_list`` in the same read)."""
        return list(self.worker_list().workers)

    def worker_list(self) -> WorkerList:
        """The workers (as ``workers``) and the settings refused (as ``config_refused``),
        from one read of the settings: what a view that shows workers and warns of a
        refused lease reads, so that both speak of the same settings."""
        from queuectl.worker.control import worker_states

        from ..models import WorkerList

        settings, refused = self.readable_settings()
        found = worker_states(self.storage, settings.lease_duration, self.clock.now())
        return WorkerList(found, refusal_reasons(refused))


class _ClosedStorage:
    """What a closed ``Queue`` holds in place of its storage: closing it again does nothing,
    and any other use raises ``QueueClosed``."""

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> object:
        raise QueueClosed("this queue is closed: open a new Queue to use its database again")


_CLOSED = _ClosedStorage()


def refusal_reasons(refused: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Each refused setting (``readable_settings``) with why, without the value found."""
    return {key: why for key, (_, why) in refused.items()}


def _refuse_missing_database(database: str | os.PathLike[str] | None) -> None:
    backend, where = locate(database)
    if backend == "sqlite" and not os.path.exists(where):
        raise DatabaseNotFound(where)


def __getattr__(name: str) -> object:
    if name != "Queue":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .facade import Queue

    globals()["Queue"] = Queue  # later look-ups skip this function
    return Queue
