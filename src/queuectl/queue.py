"""``queuectl.Queue``: the public library API. The CLI and the dashboard are its clients.

>>> from queuectl import Queue
>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     job = q.enqueue("echo hello", max_retries=2)
...     q.get(job.id).state
<JobState.PENDING: 'pending'>
"""

from __future__ import annotations

import math
import os

from . import config
from .clock import Clock
from .enqueuing import Enqueuer
from .errors import DatabaseNotFound, InvalidInput, JobNotFound
from .jobspec.newjob import Enqueued
from .jobspec.text import lookup_ids, queue_name
from .jobspec.text import tag as scheduling_tag
from .storage import locate, open_storage, redact
from .units import parse_duration

# typing, and the enum behind JobState, cost `queuectl enqueue` more than its insert: the
# names below are for the type checker only (annotations are never evaluated).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from types import TracebackType
    from typing import Any, Literal, overload

    from queuectl.worker.loop import Worker
    from queuectl.worker.supervisor import Detached

    from .listing import JobListing, JobPage, RunningJob
    from .models import Attempt, Job, QueueStatus, RunOutput, WorkerInfo
    from .queues import NamedQueues
    from .rollups import SeriesPoint
    from .schedules import Schedules
    from .states import JobState
    from .stats import FinishedRun, QueueTotals, Stats
    from .storage import Storage
    from .storage.schema import SchemaStatus
    from .transfer import Imported


_MOST_LISTED = 10**9  # a bound on limit and offset: SQLite's integers stop at 2**63
_RUNS_PAGE = 5000  # finished runs read per query: memory stays flat over any window


class Queue:
    """A job queue in one database. Named queues are ``queue.queues`` (pause, resume, limit)
    and recurring jobs ``queue.schedules`` (add, pause, resume, remove)."""

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
        self._enqueuer = Enqueuer(self.storage, self.clock, lambda: self.settings)

    @property
    def queues(self) -> NamedQueues:
        """Named queues: ``queue.queues.pause("video")``, ``.resume``, ``.limit``, ``.list``."""
        from .queues import NamedQueues

        return NamedQueues(self.storage)

    @property
    def schedules(self) -> Schedules:
        """Recurring jobs: ``queue.schedules.add("backup", {...}, cron="0 2 * * *")``,
        ``.pause``, ``.resume``, ``.remove``, ``.list``."""
        from .schedules import Schedules

        return Schedules(self.storage, self.clock, lambda: self.settings)

    @property
    def url(self) -> str:
        """The database location as given, password included (to open it again)."""
        return self.storage.url

    @property
    def location(self) -> str:
        """The database location fit to print: without a password."""
        return redact(self.storage.url)

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def settings(self) -> config.Settings:
        return config.resolve(self.storage.config_items(), self._environ)

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
        def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | Iterable[str], *,
                         ids_only: Literal[False] = False) -> list[Job]: ...

        @overload
        def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | Iterable[str], *,
                         ids_only: Literal[True]) -> Enqueued: ...

    def enqueue_many(self, jobs: Iterable[Mapping[str, Any]] | Iterable[str], *,
                     ids_only: bool = False) -> list[Job] | Enqueued:
        """Add many jobs in one transaction: all of them, or (on any error) none.

        ``jobs`` are JSON objects (mappings), or lines of JSON (a text file, say: blank lines
        are skipped, and errors name the line). With ``ids_only`` no ``Job`` is built for the
        caller, which makes big batches several times faster (see ``Enqueued``).
        """
        return self._enqueuer.many(jobs, ids_only=ids_only)

    @staticmethod
    def load_json(text: str) -> Any:
        """The value in a job's JSON text, for ``enqueue`` (``queuectl enqueue JSON``);
        ``InvalidInput`` in one line (``invalid JSON: Expecting value at column 1``) if it is
        not JSON, is nested too deeply or is larger than a job may be."""
        from .jobspec.parse import load_json

        return load_json(text)

    # -- reading -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        lookup_ids(job_id)
        job = self.storage.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def attempts(self, job_id: str) -> list[Attempt]:
        self.get(job_id)
        return self.storage.attempts(job_id)

    def run_output(self, job_id: str, number: int, offset: int = 0, *,
                   most: int | None = None) -> RunOutput | None:
        """Run ``number``'s output from byte ``offset`` on, what a follower of its log has
        not read yet; at most the last ``most`` bytes. None if that run has not started.

        >>> out = queue.run_output("encode-7", 1, offset=8)  # doctest: +SKIP
        >>> out.start, out.size, out.data, out.finished
        (8, 16, b'frame 2\\n', True)
        """
        if offset < 0 or (most is not None and most < 0):
            raise InvalidInput(f"offset and most: must be 0 or more, got {offset}, {most}")
        found = self.storage.run_output(job_id, number, offset, most)
        if found is None:
            self.get(job_id)  # no such job, rather than a run not started
        return found

    def jobs(self, state: JobState | str | None = None, *, limit: int = 50,
             offset: int = 0, tag: str | None = None) -> list[Job]:
        """Jobs, newest first, optionally in one state, or with one tag."""
        if isinstance(state, str):
            from .states import JobState

            state = JobState.parse(state)
        if not 1 <= limit <= _MOST_LISTED:
            raise InvalidInput(f"limit: must be between 1 and {_MOST_LISTED}, got {limit}")
        if not 0 <= offset <= _MOST_LISTED:
            raise InvalidInput(f"offset: must be between 0 and {_MOST_LISTED}, got {offset}")
        if tag is not None:
            return self.storage.list_jobs(state, limit, offset, tag=scheduling_tag(tag, "--tag"))
        return self.storage.list_jobs(state, limit, offset)

    def listing(self, state: JobState | str | None = None, *, queue: str | None = None,
                tag: str | None = None, limit: int = 50) -> JobListing:
        """The newest ``limit`` jobs in ``state``, ``queue`` and with ``tag`` (each optional),
        whether more match, and when each one's latest run started and ended."""
        from .listing import job_listing

        if limit > _MOST_LISTED:  # job_listing refuses one below 1
            raise InvalidInput(f"limit: must be between 1 and {_MOST_LISTED}, got {limit}")
        return job_listing(self.storage, state, queue=queue, tag=tag, limit=limit)

    def counts(self) -> dict[JobState, int]:
        """The number of jobs in every state, zeros included."""
        return self.storage.count_by_state()

    def pending_breakdown(self) -> dict[str, int]:
        """Pending jobs by what they wait for: ``ready`` (a worker may take them now, unless
        their queue is paused or full), ``scheduled`` (their run_at is to come) and
        ``blocked`` (a dependency has not completed)."""
        waiting = self.storage.pending_breakdown(self.clock.now())
        ready = waiting.pop("pending") - waiting["scheduled"] - waiting["blocked"]
        return {"ready": max(0, ready), **waiting}

    def status(self) -> QueueStatus:
        """Jobs per state, what pending jobs wait for, the workers and the database: what
        ``queuectl status`` shows and the dashboard's ``/api/status`` returns."""
        from .models import QueueStatus

        return QueueStatus(self.location, self.counts(), self.pending_breakdown(),
                           self.workers(), self.storage.count_paused())

    def workers(self) -> list[WorkerInfo]:
        """Registered workers; ``state`` is running, stopping, or lost (heartbeat too old)."""
        from queuectl.worker.control import worker_states

        return worker_states(self.storage, self.settings.lease_duration, self.clock.now())

    # -- dead letter queue -------------------------------------------------------------------

    def retry(self, job_ids: Sequence[str], *, include_canceled: bool = False) -> list[Job]:
        """Put dead jobs back to pending with attempts reset to 0, keeping their history."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.retry(lookup_ids(job_ids), self.clock.now(),
                                  include_canceled=include_canceled)

    def retry_all_dead(self, *, tag: str | None = None) -> list[str]:
        """Retry every dead job, or every dead job with ``tag``."""
        if tag is not None:
            return self.storage.retry_all_dead(self.clock.now(), tag=scheduling_tag(tag, "--tag"))
        return self.storage.retry_all_dead(self.clock.now())

    # -- configuration -----------------------------------------------------------------------

    def config_get(self, key: str) -> str:
        key = config.canonical_key(key)
        return config.describe(self.settings)[key]

    def config_set(self, key: str, value: str) -> tuple[str, str]:
        """Validate and store a setting; returns ``(canonical key, stored value)``."""
        key = config.canonical_key(key)
        stored = config.normalize_value(key, value)
        self.storage.set_config(key, stored)
        return key, stored

    def config_unset(self, key: str) -> str:
        key = config.canonical_key(key)
        self.storage.set_config(key, None)
        return key

    def config_list(self) -> dict[str, str]:
        return config.describe(self.settings)

    # -- workers -----------------------------------------------------------------------------

    def worker(self, slots: int = 1, *, worker_id: str | None = None,
               queues: Sequence[str] | None = None) -> Worker:
        """A worker on a connection of its own (its coordinator thread is its only user),
        serving ``queues`` (default: every queue)."""
        from queuectl.worker.loop import Worker

        names = [queue_name(name, "--queue") for name in queues or ()]
        return Worker(open_storage(self.url), slots=slots, clock=self._given_clock,
                      environ=self._environ, owns_storage=True, worker_id=worker_id,
                      queues=names or None)

    def serve_worker(self, slots: int = 1, *, worker_id: str | None = None,
                     queues: Sequence[str] | None = None, burst: bool = False) -> None:
        """Run a worker in this process until it is stopped (Ctrl-C, SIGTERM, ``worker stop``)
        or, with ``burst``, until nothing is left to do; see ``supervisor.serve``."""
        from queuectl.worker.supervisor import serve

        worker = self.worker(slots, worker_id=worker_id, queues=queues)
        # The worker works on a connection of its own: this one would sit idle meanwhile (a
        # PostgreSQL server counts every connection against max_connections).
        self.storage.disconnect()
        serve(worker, burst=burst)

    def stop_workers(
        self, *, worker_id: str | None = None, now: bool = False, timeout: float | None = None
    ) -> tuple[list[str], list[str]]:
        """Ask workers to stop and wait until they have exited.

        Returns ``(stopped, still running)``; the second list is empty unless ``timeout``
        ran out. Workers already dead are cleaned up (their jobs rescued) and count as stopped.
        """
        from queuectl.worker.control import stop_workers

        return stop_workers(self.storage, self.settings, self.clock, worker_id=worker_id,
                            mode="now" if now else "graceful", timeout=timeout)

    def start_worker_detached(self, slots: int = 1, *, queues: Sequence[str] = (),
                              burst: bool = False, verbose: bool = False,
                              quiet: bool = False) -> Detached:
        """Start ``queuectl worker start`` in the background, logging to a file beside the
        database, and return once it has registered."""
        from queuectl.worker.control import start_detached_worker

        return start_detached_worker(self.storage, slots, queues=queues, burst=burst,
                                     verbose=verbose, quiet=quiet)

    # -- steering what runs: signals for running jobs, parallelism (see job_control.py) -----

    def kill(self, job_id: str, signal: str | int = "TERM", *,
             wait: float | None = 10.0) -> Job:
        """Send ``signal`` (a name such as TERM, HUP, USR1, or a number) to a running job's
        process group, through the worker that runs it; waits up to ``wait`` seconds for that
        worker to take the request. A job stopped by ``pause`` is continued after the
        signal, so that it can act on it."""
        from .job_control import signal_name, taken

        request = self.storage.request_signal(job_id, signal_name(signal))
        return taken(self, request, wait)

    def pause(self, job_id: str, *, wait: float | None = 10.0) -> Job:
        """Stop a running job's process group (SIGSTOP); its worker keeps the lease alive,
        and the job shows as paused until ``resume``."""
        from .job_control import taken

        return taken(self, self.storage.request_signal(job_id, "STOP"), wait)

    def resume(self, job_id: str, *, wait: float | None = 10.0) -> Job:
        """Continue a paused job's process group (SIGCONT)."""
        from .job_control import taken

        return taken(self, self.storage.request_signal(job_id, "CONT"), wait)

    def parallel(self, slots: int, *, worker_id: str | None = None, host: str | None = None,
                 every_host: bool = False,
                 wait: float | None = 10.0) -> tuple[list[str], list[str]]:
        """Make running workers run ``slots`` jobs at once, without a restart: ``worker_id``,
        or the workers of ``host``, or with ``every_host`` all of them; by default this
        host's. Returns ``(applied, asked)``: the workers that run ``slots`` at once after
        waiting up to ``wait`` seconds, and all the workers asked."""
        from .job_control import checked_slots, resized

        if worker_id is None and host is None and not every_host:
            from queuectl.hosts import HOST

            host = HOST
        asked = self.storage.request_slots(checked_slots(slots), worker_id=worker_id,
                                           host=host)
        return resized(self, asked, slots, wait), asked

    def autostart_worker(self) -> Detached | None:
        """With the ``autostart`` setting (N slots), start a detached worker on this host if
        none runs here for this database (``queuectl enqueue`` calls this); else None."""
        from queuectl.worker.control import autostart_worker

        return autostart_worker(self.storage, self.settings, self.clock)

    # -- seeing the queue: dashboard, stats, status --watch ----------------------------------

    def search_jobs(
        self,
        state: JobState | str | None = None,
        text: str | None = None,
        *,
        queue: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
        tag: str | None = None,
        error: str | None = None,
        scan: int | None = None,
    ) -> JobPage:
        """A page of jobs, newest first, by state, queue, tag, a substring of the id or
        command, and a substring of the last error.

        ``before``/``after`` are the ``older``/``newer`` cursors of the page shown before.
        With ``scan`` (the dashboard), a page filtered by text or queue looks at no more than
        that many jobs past its cursor, and may hold fewer than ``limit`` with a cursor on.
        """
        from .listing import search_jobs

        if text:
            lookup_ids(text, "search")
        if error:
            lookup_ids(error, "error")
        return search_jobs(self.storage, state, text, queue=queue, before=before, after=after,
                           limit=limit, tag=tag, error=error, scan=scan)

    def running_jobs(self, limit: int = 100) -> list[RunningJob]:
        """Jobs running now, longest running first, with when their run started."""
        return self.storage.running_jobs(limit)

    def finished_runs(self, since: float, until: float | None = None) -> Iterator[FinishedRun]:
        """Every run that finished in ``[since, until)``, oldest first, read page by page."""
        until = self.clock.now() if until is None else until
        after: tuple[float, str, int] | None = None
        while True:
            page = self.storage.finished_runs(since, until, _RUNS_PAGE, after)
            yield from page
            if len(page) < _RUNS_PAGE:
                return
            last = page[-1]
            after = (last.finished_at, last.job_id, last.number)

    def stats(
        self, since: float | str = 3600.0, *, queue: str | None = None, step: float | None = None
    ) -> Stats:
        """Counts, success rate, throughput and run/wait time percentiles over the last
        ``since`` (seconds or a duration such as ``1h``), per queue; see ``queuectl.stats``."""
        from .stats_window import window_stats

        now, window = self.clock.now(), _window(since)
        return window_stats(self.storage, self.finished_runs, now - window, now, queue=queue,
                            step=step)

    def stats_series(self, since: float | str = 3600.0, *, queue: str | None = None,
                     bars: int = 60) -> list[SeriesPoint]:
        """Completed and failed runs and the mean wait of first runs over the last ``since``
        (``1h``, ``1d``, ``7d``...), in about ``bars`` bars of whole minutes, oldest first;
        one queue's with ``queue``. From the database's per-minute rollups: cheap over a week
        of a million runs (charts of the dashboard)."""
        from .stats_window import window_series

        if not 1 <= bars <= 10_000:
            raise InvalidInput(f"bars: must be between 1 and 10000, got {bars}")
        now, window = self.clock.now(), _window(since)
        step = max(1, math.ceil(window / bars / 60)) * 60
        return window_series(self.storage, window, now, queue=queue, step=step)

    def run_totals(self) -> dict[str, QueueTotals]:
        """Counters and histograms of every run so far, per queue (``/metrics``): kept by the
        database as runs finish, so reading them costs the same at any number of runs."""
        from .stats_window import run_totals

        return run_totals(self.storage)

    def purge(self, states: Sequence[JobState | str], older_than: float | str = 0.0) -> int:
        """Delete finished jobs in ``states`` (completed, dead, canceled) last updated more
        than ``older_than`` ago (seconds or e.g. ``"7d"``; 0: all of them), with their
        attempts and output, in short batches. Returns how many were deleted."""
        from queuectl.worker.maintenance import purge

        return purge(self.storage, states, older_than, self.clock.now())

    # -- changing jobs: restart, remove, edit (rules in job_edits.py and storage/changes.py) -

    def restart(self, job_ids: Sequence[str]) -> list[Job]:
        """Run finished jobs again as new jobs (numbered, ``restarted_from`` set), all or
        nothing; the new jobs do not wait on the old ones' dependencies."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.restart(list(dict.fromkeys(job_ids)), self.clock.now())

    def remove(self, job_ids: Sequence[str]) -> list[str]:
        """Delete jobs that are not running, with their history, all or nothing."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.remove(list(dict.fromkeys(job_ids)))

    def edit(self, job_id: str, changes: Mapping[str, Any]) -> Job:
        """Change fields of a pending or failed job (``job_edits.EDITABLE``, or ``delay``),
        checked as an enqueue checks them."""
        from .job_edits import checked_edit

        now = self.clock.now()
        checked, run_at = checked_edit(self.get(job_id), changes, self.settings, now)
        return self.storage.edit(job_id, checked, run_at, now)

    def delete(self, job_ids: Sequence[str]) -> list[str]:
        """Delete completed, dead or canceled jobs and their history, all or nothing."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.delete_jobs(list(dict.fromkeys(lookup_ids(job_ids))))

    # -- runtime: cancel, wait, output -------------------------------------------------------

    def cancel(self, job_ids: Sequence[str], *, wait: float | None = 10.0) -> list[Job]:
        """Cancel jobs, all or nothing: waiting ones at once, running ones are killed (their
        whole process group) by their worker; waits up to ``wait`` seconds for those."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        requested = self.storage.cancel(list(dict.fromkeys(lookup_ids(job_ids))),
                                        self.clock.now())
        from .waiting import wait_for_jobs

        return wait_for_jobs(self.storage, [job.id for job in requested], self.clock, wait)

    def wait(self, job_ids: Sequence[str], *, timeout: float | None = None) -> list[Job]:
        """Block until every job is completed, dead or canceled (or ``timeout`` runs out)."""
        from .waiting import wait_for_jobs

        return wait_for_jobs(self.storage, lookup_ids(job_ids), self.clock, timeout)

    def follow(self, job_id: str, attempt: int | None = None) -> Iterator[bytes | Attempt]:
        """Output of a run as it grows, then the finished ``Attempt`` (see ``waiting``)."""
        from .waiting import follow_output

        return follow_output(self.storage, lookup_ids(job_id)[0], self.clock, attempt)

    # -- the database as a whole: its schema, moving it to another ---------------------------

    @staticmethod
    def schema_status(database: str | os.PathLike[str] | None = None) -> SchemaStatus:
        """The schema version of ``database`` and the migrations an upgrade would apply,
        read without opening the queue (which would migrate it)."""
        from .storage.schema import schema_status

        return schema_status(database)

    @staticmethod
    def upgrade_schema(database: str | os.PathLike[str] | None = None) -> list[str]:
        """Apply the pending migrations; the names of those this call applied (a process
        upgrading at the same time applies the others)."""
        from .storage.schema import upgrade_schema

        return upgrade_schema(database)

    def export_lines(self) -> Iterator[str]:
        """The queue as JSON lines (see ``queuectl.transfer``): settings, schedules, jobs."""
        from .transfer import export_lines

        return export_lines(self.storage)

    def import_lines(self, lines: Iterable[str]) -> Imported:
        """Add an export's settings, schedules and jobs, all or nothing."""
        from .transfer import import_lines

        return import_lines(self.storage, lines)


def _refuse_missing_database(database: str | os.PathLike[str] | None) -> None:
    backend, where = locate(database)
    if backend == "sqlite" and not os.path.exists(where):
        raise DatabaseNotFound(where)


def _window(since: float | str) -> float:
    window = parse_duration(since, field="since")
    if window <= 0:
        raise InvalidInput(f"since: must be more than zero, got {since!r}")
    return window
