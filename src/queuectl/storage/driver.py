"""What the store asks of a database driver: transactions of named queries, and its dialect.

The store (``store.py`` and the modules it composes) holds every rule of the queue once. A
driver (``sqlite/``, ``postgres/``) knows only its database:

- transactions that run named queries from its ``queries.sql`` (the same names in every
  driver, with the same parameters and the same columns in the same order);
- how its rows become values where the types differ (JSON text or arrays, 0/1 or booleans);
- wake-ups for idle workers (SQLite: a datagram after the commit; PostgreSQL: NOTIFY in
  the transaction) and the socket a worker waits on;
- after a COMMIT whose outcome is unknown (PostgreSQL's connection died during it), running
  the operation again with ``in_doubt`` set, so that it looks for its own effects first;
- its migrations and the schema version they reach.

A driver turns its errors into ``StorageError`` (one line that says what happened), except a
broken unique key, which it raises as ``Conflict`` for the store to name (a duplicate id, a
unique key a live job holds, a schedule name taken).

Protocols are for the type checker only: defining them costs every ``queuectl enqueue``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod  # loaded with the interpreter: costs no start-up

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LATE_AFTER = 1.0  # seconds a transaction may be held up before its leases are moved on


class Conflict(Exception):
    """A write broke a unique key; the transaction is rolled back."""


class NamedQueries(ABC):
    """What both drivers' transactions share: reading what a named statement returned. A
    driver's transaction says how a statement runs (``_execute``) and how its rows become
    jobs (``job_rows``)."""

    __slots__ = ("in_doubt", "late", "wake_jobs", "wake_requested")
    job_rows: Any  # a JobRows (rows.py) for the driver's way of storing lists

    def __init__(self, in_doubt: bool, late: float = 0.0) -> None:
        self.in_doubt = in_doubt
        # Holdups under a second are the usual jitter of a busy machine, and leases are
        # tens of seconds: those leave the caller's times exact.
        self.late = late if late >= LATE_AFTER else 0.0
        self.wake_requested = 0  # 1: jobs, 2: check in (stop or cancel)
        self.wake_jobs: int | None = 0  # how many jobs the wake-up is for; None: unknown

    @abstractmethod
    def _execute(self, query: str, params: Any) -> Any:
        """Run the named statement ``query`` with ``params``; a cursor over its rows."""

    def one(self, query: str, params: Any = ()) -> Any:
        return self._execute(query, params).fetchone()

    def all(self, query: str, params: Any = ()) -> list[Any]:
        return self._execute(query, params).fetchall()  # type: ignore[no-any-return]

    def run(self, query: str, params: Any = ()) -> int:
        return self._execute(query, params).rowcount  # type: ignore[no-any-return]

    def jobs(self, query: str, params: Any = (), *, claim_order: bool = False) -> list[Any]:
        return self.job_rows.read(  # type: ignore[no-any-return]
            self._execute(query, params), claim_order=claim_order)

    def jobs_with(self, query: str, params: Any, columns: Any) -> list[Any]:
        return self.job_rows.read_with(  # type: ignore[no-any-return]
            self._execute(query, params), columns)

    def wake(self, *, stop: bool = False, jobs: int | None = None) -> None:
        self.wake_requested = max(self.wake_requested, 2 if stop else 1)
        if jobs is None or self.wake_jobs is None:
            self.wake_jobs = None
        else:
            self.wake_jobs += jobs


if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Protocol, TypeVar

    from ..clock import Clock
    from ..models import Job
    from .base import WakeChannel

    Params = Sequence[Any] | Mapping[str, Any]
    Row = tuple[Any, ...]
    T = TypeVar("T")

    class Transaction(Protocol):
        """One transaction (or, for ``Driver.read``, one connection) of named queries."""

        # True when an earlier try of this operation may have committed (see the module).
        in_doubt: bool
        # Seconds between the call and the start of this transaction (a wait for SQLite's
        # lock, tries on a lost connection) when a second or more, else 0: a lease written
        # now runs that much later, so that it is never out of date before it is stored.
        late: float

        def one(self, query: str, params: Params = ()) -> Row | None:
            """The first row of the query, or None."""
            ...

        def all(self, query: str, params: Params = ()) -> list[Row]: ...

        def run(self, query: str, params: Params = ()) -> int:
            """Run a write; returns how many rows it changed."""
            ...

        def many(self, query: str, rows: Iterable[Params]) -> None:
            """Run a write once per item of ``rows`` (one round trip where the driver can)."""
            ...

        def each(self, query: str, rows: Sequence[Params]) -> list[Row | None]:
            """Run the query once per item of ``rows``; the first row of each, or None."""
            ...

        def jobs(self, query: str, params: Params = (), *,
                 claim_order: bool = False) -> list[Job]:
            """The jobs a query returns (``SELECT *`` or ``RETURNING *`` of the jobs table);
            with ``claim_order``, best first: priority, then run_at, then enqueue order."""
            ...

        def jobs_with(self, query: str, params: Params,
                      columns: Sequence[str]) -> list[tuple[Job, tuple[Any, ...]]]:
            """``jobs``, each with the values of the other ``columns`` its row holds."""
            ...

        def array(self, values: Iterable[Any]) -> Any:
            """A list as a query parameter (JSON text for SQLite, an array for PostgreSQL)."""
            ...

        def wake(self, *, stop: bool = False, jobs: int | None = None) -> None:
            """Wake idle workers once this transaction commits: as many as ``jobs`` ready
            jobs need (None: every idle worker); with ``stop``, every worker, to check in
            (a stop or a cancel). Several calls send one wake-up per worker."""
            ...

    class Driver(Protocol):
        url: str  # the location as given, password included: a worker opens it again
        applied: list[str]  # the migrations this driver applied when it opened the database

        def write(self, operation: Callable[[Transaction], T], *, claim: bool = False,
                  durable: bool = True) -> T:
            """Run ``operation`` in one write transaction and commit it. ``claim``: the
            transaction claims jobs, and claimers must take turns on queues with a
            concurrency limit (so that each counts the jobs the others took).
            ``durable=False``: the commit need not reach the disk before it returns (a
            claim that records no result: lost in a power cut, its jobs run again)."""
            ...

        def read(self, operation: Callable[[Transaction], T], *,
                 snapshot: bool = False) -> T:
            """Run reads; with ``snapshot`` they all see one state of the database."""
            ...

        def wake_channel(self, worker_id: str) -> WakeChannel: ...

        def keep_trying(self) -> None:
            """From now on wait for a lost database to come back instead of failing (a
            worker's store: running jobs go on meanwhile)."""
            ...

        # Whether wake-ups pick their workers after the commit (PostgreSQL), so that a worker
        # listed as idle meanwhile must claim once more (idle.py).
        wakes_after_commit: bool

        def clock(self) -> Clock:
            """The clock of the database: for leases that workers on several hosts compare."""
            ...

        def disconnect(self) -> None:
            """Close the connection if it is a scarce one (a server's); the next operation
            opens one again."""
            ...

        def close(self) -> None: ...
