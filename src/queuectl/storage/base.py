"""Values the store and the workers pass each other: registrations, check-ins, streamed
output, and the channel an idle worker waits on (the verbs are ``Store``'s, in store.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class WorkerRegistration:
    id: str
    host: str
    pid: int
    pid_started: str | None
    slots: int


@dataclass(frozen=True)
class LocalWorker:
    id: str
    pid: int
    pid_started: str | None


INTERRUPTED = "interrupted by a forced stop (not counted as an attempt)"


@dataclass(frozen=True)
class CheckIn:
    """What a heartbeat tells a worker."""

    registered: bool  # False if the registration was removed: register again
    stop_requested: str | None  # None, "graceful" or "now"
    cancel_requested: list[tuple[str, int]]  # (job id, run) of held jobs to kill
    # (job id, run, signal name) for held jobs' process groups: queuectl kill, pause, resume
    signals: list[tuple[str, int, str]] = field(default_factory=list)
    slots_wanted: int | None = None  # queuectl parallel: run this many jobs at once
    # (job id, run) of every run the database still says is this worker's, its lease just
    # renewed: a run the worker is running that is not here was rescued and is no longer its.
    held: list[tuple[str, int]] = field(default_factory=list, compare=False)
    lease_until: float | None = field(default=None, compare=False)  # as written (may be later)
    # Whether this worker is the one that does the store's housekeeping (schedule ticks,
    # retention, expired leases): the longest-registered of those alive (issue 12).
    housekeeper: bool = field(default=True, compare=False)
    # Changes whenever a stored setting does: the worker reads them again only then.
    config_version: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OutputChunk:
    """Output of a run still going, ``offset`` bytes into it."""

    job_id: str
    attempt: int
    offset: int
    data: bytes


class WakeChannel(Protocol):
    """Something an idle worker can wait on (``fileno``) to hear of new work."""

    def fileno(self) -> int: ...

    @property
    def reliable(self) -> bool:
        """Whether every wake-up sent now reaches this worker (PostgreSQL's LISTEN on a live
        connection, across hosts): then an idle worker needs no frequent fallback poll."""
        ...

    def drain(self) -> bool:
        """Consume pending wake-ups; True if one of them asked the worker to check for a stop."""
        ...

    def close(self) -> None: ...
