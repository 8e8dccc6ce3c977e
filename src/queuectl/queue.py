"""``queuectl.Queue``: the public library API. The CLI and the dashboard are its clients.

>>> from queuectl import Queue
>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     job = q.enqueue("echo hello", max_retries=2)
...     q.get(job.id).state
<JobState.PENDING: 'pending'>
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from . import config
from .clock import Clock, SystemClock
from .errors import DatabaseNotFound, DuplicateJob, InvalidInput, JobNotFound, QueuectlError
from .jobspec.newjob import Enqueued, NewJob
from .jobspec.parse import load_json, new_job_ids, parse_job_lines, parse_job_spec, parse_job_specs
from .jobspec.text import queue_name
from .jobspec.text import tag as scheduling_tag
from .queue_scheduling import QueueScheduling
from .states import JobState
from .storage import normal_path, open_storage, redact, resolve_database, sqlite_path
from .units import parse_duration

if TYPE_CHECKING:
    from .listing import JobListing, JobPage, RunningJob
    from .models import Attempt, Job, WorkerInfo
    from .stats import FinishedRun, Stats
    from .storage import Storage
    from .worker import Worker


_RUNS_PAGE = 5000  # finished runs read per query: memory stays flat over any window
_Stored = TypeVar("_Stored")  # what a store verb returns for a batch: Jobs or Enqueued


class Queue(QueueScheduling):
    """A job queue in one database; scheduling methods come from ``QueueScheduling``."""

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
        self.clock = clock or SystemClock()
        self._environ = os.environ if environ is None else environ
        if not create:
            _refuse_missing_database(database)
        self.storage: Storage = open_storage(database)

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

    def enqueue(
        self,
        command: str,
        *,
        id: str | None = None,
        max_retries: int | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | str | None = None,
        fatal_exit_codes: Sequence[int] | None = None,
        retry_on_timeout: bool | None = None,
        output_limit: int | str | None = None,
        **scheduling: Any,
    ) -> Job:
        """Add one job; it runs in ``cwd`` (default: the current directory).

        ``scheduling`` takes the fields of ``queuectl.jobspec.fields``: ``priority``, ``queue``,
        ``delay`` or ``run_at``, ``depends_on``, ``unique_key``, ``tags``, ``backoff_base``,
        ``backoff_max``, ``jitter``. With a ``unique_key`` that a live job holds already, that
        job is returned, with ``unique_conflict`` set, and nothing is added.
        """
        fields: dict[str, Any] = {
            "id": id, "command": command, "max_retries": max_retries, "cwd": cwd, "env": env,
            "timeout": timeout, "retry_on_timeout": retry_on_timeout, "output_limit": output_limit,
            "fatal_exit_codes": list(fatal_exit_codes) if fatal_exit_codes is not None else None,
            **{key: list(value) if isinstance(value, tuple) else value
               for key, value in scheduling.items()},
        }
        return self.enqueue_many([{k: v for k, v in fields.items() if v is not None}])[0]

    def enqueue_json(self, text: str, extra: Mapping[str, Any] | None = None) -> Job:
        """Add one job given as a JSON object, as ``queuectl enqueue '{...}'`` does, with the
        fields of ``extra`` added (a field given in both is refused)."""
        spec = load_json(text)
        if extra and isinstance(spec, dict):
            for key in extra:
                if key in spec:
                    raise InvalidInput(f"{key} is given twice: in the JSON and as a flag")
            spec = {**spec, **extra}
        return self._store([parse_job_spec(spec, self.settings)], [spec], self.storage.enqueue)[0]

    def enqueue_many(self, specs: Iterable[Mapping[str, Any]]) -> list[Job]:
        """Add many jobs in one transaction: all of them, or (on any error) none."""
        with _collector_paused():
            return self._add_specs(list(specs), self.storage.enqueue)

    def enqueue_many_ids(self, specs: Iterable[Mapping[str, Any]]) -> Enqueued:
        """``enqueue_many``, returning only the jobs' ids (see ``Enqueued``).

        No ``Job`` is built for the caller, which makes big batches several times faster:
        ``queuectl enqueue --file`` adds 100,000 jobs this way in about a second.
        """
        with _collector_paused():
            return self._add_specs(list(specs), self.storage.enqueue_ids)

    def enqueue_jsonl(self, lines: Iterable[str]) -> list[Job]:
        """Add one job per non-blank line of JSON, all or nothing; errors name the line."""
        with _collector_paused():
            return self._add_lines(lines, self.storage.enqueue)

    def enqueue_jsonl_ids(self, lines: Iterable[str]) -> Enqueued:
        """``enqueue_jsonl``, returning only the jobs' ids, as ``enqueue_many_ids`` does."""
        with _collector_paused():
            return self._add_lines(lines, self.storage.enqueue_ids)

    # The batch's objects die when these return, before the collector runs again.
    def _add_specs(self, specs: list[Mapping[str, Any]],
                   insert: Callable[[Sequence[NewJob], float], _Stored]) -> _Stored:
        # One spec is the caller's job: its errors need no number.
        name = None if len(specs) == 1 else lambda index: f"job {index + 1}"
        return self._store(parse_job_specs(specs, self.settings, name), specs, insert)

    def _add_lines(self, lines: Iterable[str],
                   insert: Callable[[Sequence[NewJob], float], _Stored]) -> _Stored:
        specs, jobs = parse_job_lines(lines, self.settings)
        return self._store(jobs, specs, insert)

    def _store(self, jobs: list[NewJob], specs: Sequence[Any],
               insert: Callable[[Sequence[NewJob], float], _Stored]) -> _Stored:
        ids = [job.id for job in jobs]
        seen = set(ids)
        if len(seen) < len(ids):
            seen.clear()
            for job_id in ids:
                if job_id in seen:
                    raise DuplicateJob(job_id)
                seen.add(job_id)
        try:
            return insert(jobs, self.clock.now())
        except DuplicateJob as exc:
            if any(spec.get("id") == exc.job_id for spec in specs):
                raise
            # A random id collided with a stored one (about 1 in 10^8 at a million jobs):
            # draw it again rather than fail the caller.
            renamed = [job._replace(id=new_job_ids(1, seen)[0]) if job.id == exc.job_id else job
                       for job in jobs]
            return insert(renamed, self.clock.now())

    # -- reading -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        job = self.storage.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def attempts(self, job_id: str) -> list[Attempt]:
        self.get(job_id)
        return self.storage.attempts(job_id)

    def jobs(self, state: JobState | str | None = None, *, limit: int = 50,
             offset: int = 0, tag: str | None = None) -> list[Job]:
        """Jobs, newest first, optionally in one state, or with one tag."""
        if isinstance(state, str):
            state = JobState.parse(state)
        if limit < 1:
            raise InvalidInput(f"limit: must be at least 1, got {limit}")
        if tag is not None:
            return self.storage.list_jobs(state, limit, offset, tag=scheduling_tag(tag, "--tag"))
        return self.storage.list_jobs(state, limit, offset)

    def listing(self, state: JobState | str | None = None, *, queue: str | None = None,
                tag: str | None = None, limit: int = 50) -> JobListing:
        """The newest ``limit`` jobs in ``state``, ``queue`` and with ``tag`` (each optional),
        whether more match, and when each one's latest run started and ended."""
        from .listing import JobListing, JobQuery

        if isinstance(state, str):
            state = JobState.parse(state)
        if limit < 1:
            raise InvalidInput(f"limit: must be at least 1, got {limit}")
        name = None if queue is None else queue_name(queue, "--queue")
        if tag is None:
            page = self.storage.search_jobs(JobQuery(state=state, queue=name), limit)
            jobs, more = page.jobs, page.older is not None
        else:
            jobs, more = self._jobs_with_tag(scheduling_tag(tag, "--tag"), state, name, limit)
        return JobListing(jobs, more, self.storage.latest_runs([job.id for job in jobs]))

    def _jobs_with_tag(self, tag: str, state: JobState | None, queue: str | None,
                       limit: int) -> tuple[list[Job], bool]:
        found: list[Job] = []
        offset, page = 0, max(limit + 1, 500)
        while True:  # pages of the tag's jobs, kept when in the queue, until one too many
            jobs = self.storage.list_jobs(state, page, offset, tag=tag)
            found += [job for job in jobs if queue is None or job.queue == queue]
            if len(found) > limit or len(jobs) < page:
                return found[:limit], len(found) > limit
            offset += page

    def counts(self) -> dict[JobState, int]:
        """The number of jobs in every state, zeros included."""
        return self.storage.count_by_state()

    def workers(self) -> list[WorkerInfo]:
        """Registered workers; ``state`` is running, stopping, or lost (heartbeat too old)."""
        now = self.clock.now()
        lease = self.settings.lease_duration
        from dataclasses import replace

        from .procs import HOST, is_alive

        result = []
        for worker in self.storage.workers():
            local_dead = worker.host == HOST and not is_alive(worker.pid, None)
            if local_dead or worker.heartbeat_at + lease < now:
                state = "lost"
            elif worker.stop_requested:
                state = "stopping"
            else:
                state = "running"
            result.append(replace(worker, state=state))
        return result

    # -- dead letter queue -------------------------------------------------------------------

    def retry(self, job_ids: Sequence[str], *, include_canceled: bool = False) -> list[Job]:
        """Put dead jobs back to pending with attempts reset to 0, keeping their history."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.retry(job_ids, self.clock.now(), include_canceled=include_canceled)

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
        from .worker import Worker

        names = [queue_name(name, "--queue") for name in queues or ()]
        return Worker(open_storage(self.url), slots=slots, clock=self.clock,
                      environ=self._environ, owns_storage=True, worker_id=worker_id,
                      queues=names or None)

    def stop_workers(
        self, *, worker_id: str | None = None, now: bool = False, timeout: float | None = None
    ) -> tuple[list[str], list[str]]:
        """Ask workers to stop and wait until they have exited.

        Returns ``(stopped, still running)``; the second list is empty unless ``timeout``
        ran out. Workers already dead are cleaned up (their jobs rescued) and count as stopped.
        """
        from .maintenance import rescue_lost_runs

        rescue_lost_runs(self.storage, self.settings, self.clock.now())
        if worker_id is not None and worker_id not in {w.id for w in self.storage.workers()}:
            raise QueuectlError(f"no worker with id {worker_id!r}")
        asked = self.storage.request_stop(worker_id, "now" if now else "graceful")
        import threading

        pause = threading.Event()
        deadline = None if timeout is None else self.clock.now() + timeout
        while True:
            remaining = {w.id for w in self.storage.workers()} & set(asked)
            lost = {w.id for w in self.workers() if w.state == "lost"}
            waiting = remaining - lost
            if not waiting or (deadline is not None and self.clock.now() >= deadline):
                return [w for w in asked if w not in waiting], sorted(waiting)
            pause.wait(0.05)

    # -- seeing the queue: dashboard, stats, status --watch ----------------------------------

    def search_jobs(
        self,
        state: JobState | str | None = None,
        text: str | None = None,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> JobPage:
        """A page of jobs, newest first, by state and a substring of the id or command.

        ``before``/``after`` are the ``older``/``newer`` cursors of the page shown before.
        """
        if isinstance(state, str):
            state = JobState.parse(state)
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit: must be between 1 and 1000, got {limit}")
        if before is not None and after is not None:
            raise InvalidInput("give before or after, not both")
        from .listing import JobQuery

        query = JobQuery(state=state, text=text.strip() or None if text else None)
        return self.storage.search_jobs(query, limit, before=before, after=after)

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
        from .stats import summarize

        window = parse_duration(since, field="since")
        if window <= 0:
            raise InvalidInput(f"since: must be more than zero, got {since!r}")
        now = self.clock.now()
        runs = self.finished_runs(now - window, math.nextafter(now, math.inf))
        return summarize(runs, now - window, now, queue=queue, step=step)

    def delete(self, job_ids: Sequence[str]) -> list[str]:
        """Delete completed, dead or canceled jobs and their history, all or nothing."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        return self.storage.delete_jobs(list(dict.fromkeys(job_ids)))

    # -- runtime: cancel, wait, output -------------------------------------------------------

    def cancel(self, job_ids: Sequence[str], *, wait: float | None = 10.0) -> list[Job]:
        """Cancel jobs, all or nothing: waiting ones at once, running ones are killed (their
        whole process group) by their worker; waits up to ``wait`` seconds for those."""
        if not job_ids:
            raise InvalidInput("give at least one job id")
        requested = self.storage.cancel(list(dict.fromkeys(job_ids)), self.clock.now())
        from .watch import wait_for_jobs

        return wait_for_jobs(self.storage, [job.id for job in requested], self.clock, wait)

    def wait(self, job_ids: Sequence[str], *, timeout: float | None = None) -> list[Job]:
        """Block until every job is completed, dead or canceled (or ``timeout`` runs out)."""
        from .watch import wait_for_jobs

        return wait_for_jobs(self.storage, job_ids, self.clock, timeout)

    def follow(self, job_id: str, attempt: int | None = None) -> Iterator[bytes | Attempt]:
        """Output of a run as it grows, then the finished ``Attempt`` (see ``watch``)."""
        from .watch import follow_output

        return follow_output(self.storage, job_id, attempt)


def _refuse_missing_database(database: str | os.PathLike[str] | None) -> None:
    location = resolve_database(database)
    path = sqlite_path(location)
    if path is not None and not os.path.exists(normal_path(path, absolute=True)):
        raise DatabaseNotFound(normal_path(path, absolute=True))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch of jobs is built and stored.

    Each job's objects (its JSON, its NewJob, its row) live until the batch is stored, so
    the collector's passes (one per 700 new objects, and now and then over all of them)
    free nothing: pausing it takes ~13% off an enqueue of 100,000 jobs.
    """
    if not gc.isenabled():  # paused already, by the caller or another batch
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
