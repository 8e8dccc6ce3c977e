"""A job as given and checked, before it is stored; and what a bulk enqueue returns.

Kept apart from ``models`` (which re-exports both) because every ``queuectl enqueue`` needs
them, and nothing here needs the dataclass machinery, which costs more to import than the
enqueue itself.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NamedTuple
else:  # typing costs more to import than an enqueue: see named_tuple.py
    from ..named_tuple import NamedTuple

DEFAULT_QUEUE = "default"
# The id of a job given without one, until the store numbers it 1, 2, 3... in the transaction
# that stores it (as pueue and tsp number theirs). No id a user gives is empty.
NUMBERED = ""


class NewJob(NamedTuple):
    """A validated job, ready to be stored (see ``jobspec.parse.parse_job_spec``).

    A named tuple rather than a frozen dataclass: a bulk enqueue makes one per job, and a
    named tuple is as immutable and costs a tenth as much to make (0.4 against 3.5 µs).
    """

    id: str
    command: str
    max_retries: int
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    timeout: float | None = None
    fatal_exit_codes: tuple[int, ...] = ()
    retry_on_timeout: bool = True
    output_limit: int | None = None
    # when, where and after what the job may run (see jobspec.fields)
    priority: int = 0
    queue: str = DEFAULT_QUEUE
    run_at: float | None = None  # absolute; or
    delay: float | None = None  # seconds after the enqueue
    depends_on: tuple[str, ...] = ()
    unique_key: str | None = None
    tags: tuple[str, ...] = ()
    backoff_base: float | None = None  # None: the configured retry policy
    backoff_max: float | None = None
    jitter: float | None = None
    # completion hooks (see worker/hooks.py): a command and a URL, run once the job is final
    on_finish: str | None = None
    webhook: str | None = None

    def first_run_at(self, now: float) -> float:
        """When the job may first run: never before ``now``, which keeps FIFO order honest."""
        if self.delay is not None:
            return now + self.delay
        return now if self.run_at is None else max(now, self.run_at)

    @property
    def plain(self) -> bool:
        """Whether every field but id, command, max_retries and cwd has its default: such
        jobs are stored by a shorter statement."""
        return self[_PLAIN_FIELDS:] == _DEFAULT_TAIL


_PLAIN_FIELDS = 4  # id, command, max_retries, cwd
_DEFAULT_TAIL = NewJob("", "", 0)[_PLAIN_FIELDS:]


class Enqueued(NamedTuple):
    """What a bulk enqueue that returns ids did (``Queue.enqueue_many(..., ids_only=True)``).

    ``ids[i]`` is the id of the job stored for the i-th job given or, when that job's
    ``unique_key`` matched a live job, the id of that live job (nothing was added for it);
    ``created`` counts the jobs added.
    """

    ids: list[str]
    created: int

    @property
    def existing(self) -> int:
        """How many jobs were not added because a live job had the same unique key."""
        return len(self.ids) - self.created
