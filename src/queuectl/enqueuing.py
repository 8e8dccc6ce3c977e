"""How a ``Queue`` stores new jobs: one job, or a batch all or nothing.

A batch is checked whole before anything is written (its errors name the job, or the line of
a JSON lines file), then stored in one transaction; what only the database can refuse (an id
stored already, a dependency stored nowhere) is named so too, looked up once it refused. Big
batches are the bulk enqueue's hot path: ``ids_only`` builds no ``Job`` for the caller, and
the garbage collector rests while the batch is built, so that ``queuectl enqueue --file``
adds 100,000 jobs in about a second.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping, Sequence

from .errors import DuplicateJob, InvalidInput, UnknownDependency
from .jobspec.newjob import Enqueued, NewJob
from .jobspec.parse import parse_job_lines, parse_job_spec, parse_job_specs

TYPE_CHECKING = False  # typing and contextlib stay off the path of `queuectl enqueue`
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any, TypeVar

    from .clock import Clock
    from .config import Settings
    from .jobspec.parse import JsonLines
    from .models import Job
    from .storage import Storage

    _Stored = TypeVar("_Stored")  # what a store verb returns for a batch: Jobs or Enqueued


class Enqueuer:
    def __init__(self, storage: Storage, clock: Clock,
                 settings: Callable[[], tuple[Settings, str | None]]) -> None:
        """``settings``: the settings a job takes, and why the stored ``max_retries`` is
        refused, if it is (only a job that takes it is refused then)."""
        self._storage = storage
        self._clock = clock
        self._settings = settings

    def one(self, job: str | Mapping[str, Any], fields: Mapping[str, Any]) -> Job:
        """A command with ``fields``, or a job's JSON object (a mapping) with ``fields`` added;
        a field given in both is refused. Its errors need no number: it is the caller's job."""
        given = {key: list(value) if isinstance(value, tuple) else value
                 for key, value in fields.items() if value is not None}
        if isinstance(job, str):
            spec: Any = {"command": job, **given}
        elif isinstance(job, Mapping):
            for key in given:
                if key in job:
                    raise InvalidInput(f"{key} is given twice: in the job's JSON and as an"
                                       " option")
            spec = {**job, **given}
        else:
            spec = job  # parse_job_spec says what it should have been
        settings, refused = self._settings()
        return self._store([parse_job_spec(spec, settings, retries_refused=refused)],
                           self._storage.enqueue)[0]

    def many(self, jobs: Iterable[Mapping[str, Any]] | JsonLines, *,
             ids_only: bool) -> list[Job] | Enqueued:
        """Jobs as mappings (errors say "job 3"), or as lines of JSON (errors say "line 3")."""
        insert: Callable[[Sequence[NewJob], float], Any] = (
            self._storage.enqueue_ids if ids_only else self._storage.enqueue)
        # A file is handed on as it is, never read here: parse_job_lines reads it in bounded
        # pieces (a file such as /dev/zero has no first line to peek at).
        if not hasattr(jobs, "read") and (isinstance(jobs, (str, bytes, Mapping))
                                          or not isinstance(jobs, Iterable)):
            # list(5) raised TypeError; a string was read as lines of one character each,
            # and a job's mapping as the lines of its keys.
            raise InvalidInput(f"jobs: expected job objects or lines of JSON (a list of them,"
                               f" or a file), got {type(jobs).__name__}")
        items: Any = jobs if hasattr(jobs, "read") or isinstance(jobs, Sequence) else list(jobs)
        with _collector_paused():
            # The batch's objects die when this returns, before the collector runs again.
            if hasattr(items, "read") or (items and isinstance(items[0], (str, bytes))):
                settings, refused = self._settings()
                _, parsed, line = parse_job_lines(items, settings, retries_refused=refused)
                return self._store(parsed, insert, line)  # type: ignore[no-any-return]
            specs = list(items)
            # One spec is the caller's job: its errors need no number.
            name = None if len(specs) == 1 else lambda index: f"job {index + 1}"
            settings, refused = self._settings()
            return self._store(  # type: ignore[no-any-return]
                parse_job_specs(specs, settings, name, retries_refused=refused), insert, name)

    def _store(self, jobs: list[NewJob], insert: Callable[[Sequence[NewJob], float], _Stored],
               name: Callable[[int], str] | None = None) -> _Stored:
        # parse_job_specs refused ids given twice; the store numbers the jobs given none.
        try:
            return insert(jobs, self._clock.now())
        except (DuplicateJob, UnknownDependency) as exc:
            index = None if name is None else _refused(jobs, exc)
            if name is None or index is None:
                raise
            if isinstance(exc, DuplicateJob):
                raise DuplicateJob(exc.job_id, f"{name(index)}: {exc}") from None
            later = next((i for i, job in enumerate(jobs) if job.id == exc.dependency), None)
            why = "" if later is None else (
                f" ({name(later)} gives it: a job can depend only on the jobs before it)")
            raise UnknownDependency(exc.dependency, f"{name(index)}: {exc}{why}") from None


def _refused(jobs: Sequence[NewJob], exc: DuplicateJob | UnknownDependency) -> int | None:
    """Where in the batch is the job the store refused (None: in none of it). Looked for only
    once the store refused the batch, so that storing one costs nothing more. Of the jobs that
    name an unknown dependency the store refuses the first: a job may depend only on jobs
    stored before it, in the database or earlier in its batch."""
    if isinstance(exc, DuplicateJob):
        return next((i for i, job in enumerate(jobs) if job.id == exc.job_id), None)
    return next((i for i, job in enumerate(jobs) if exc.dependency in job.depends_on), None)


class _collector_paused:
    """Pause Python's cyclic garbage collector while a batch of jobs is built and stored.

    Each job's objects (its JSON, its NewJob, its row) live until the batch is stored, so
    the collector's passes (one per 700 new objects, and now and then over all of them)
    free nothing: pausing it takes ~13% off an enqueue of 100,000 jobs. A class, not
    ``contextlib.contextmanager``: importing contextlib costs every ``queuectl enqueue``.
    """

    __slots__ = ("_paused",)

    def __enter__(self) -> None:
        # Paused already (by the caller or another batch): that one resumes it.
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._paused:
            gc.enable()
