"""The SQLite driver: one database file in WAL mode, one connection per process for writes.

Reads take the process's connection when no other thread holds it, else a read-only
connection of their own thread (WAL readers never block one another, nor the writer): a
slow read on the dashboard never holds up another.

Every write starts with ``BEGIN IMMEDIATE`` so that writers queue on SQLite's lock (with a
generous busy timeout) instead of failing with "database is locked" half-way through a
transaction. Wake-ups are datagrams to the workers of this host, sent after the commit.

SQLite has no data-modifying CTEs, so a named query here may be a short script (several
statements, run in order with the same parameters; the last one gives the result) where the
PostgreSQL driver writes one statement: see ``count_restored_runs`` in ``queries.sql``.
"""

from __future__ import annotations

import os
import time
from _thread import RLock  # what threading.RLock is, without importing threading
from _thread import _local as local  # threading.local, likewise

from queuectl.hosts import HOST

from ...errors import StorageError, WorkerIdTaken
from .. import normal_path
from ..driver import Conflict, NamedQueries
from ..rows import JobRows
from ..sql import load_queries
from .cmodule import sqlite3
from .migrate import migrate

# typing, threading and json each cost `queuectl enqueue` a millisecond or so: json is
# imported where a list is read or written (a job's tags and dependencies).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, TypeVar

    from ...clock import Clock
    from ..base import WakeChannel
    from ..driver import Params, Transaction

    T = TypeVar("T")

_Query = str | tuple[str, ...]  # one statement, or a script of several


def _split(text: str) -> _Query:
    if text.count(";") <= 1:
        return text
    statements: list[str] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return tuple(statements) if len(statements) > 1 else text  # a ';' in a comment


QUERIES: dict[str, _Query] = {
    name: _split(text)
    for name, text in load_queries(os.path.join(os.path.dirname(__file__), "queries.sql")).items()
}
_LOCAL_WORKER_IDS = "SELECT id FROM workers WHERE host = ?"
_IDLE_WORKERS = str(QUERIES["idle_workers_of_host"])  # single statements, both
_FORGET_IDLE = str(QUERIES["forget_idle_worker"])
BUSY_TIMEOUT = 60.0  # seconds a write waits for another process's lock


def _decode_list(text: str) -> tuple[Any, ...]:
    import json  # lists are stored as JSON text

    return tuple(json.loads(text))


_ROWS = JobRows(_decode_list)


class SqliteDriver:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = normal_path(os.fspath(path), absolute=True)
        self.url = self.path
        self.applied: list[str] = []  # the migrations this open applied
        self._busy_timeout = _busy_timeout()
        self._full = True  # synchronous=FULL (durability full); set by _connect
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        # One connection serves every thread of a process that shares this driver (the
        # dashboard's request threads, say); the lock keeps their transactions apart.
        self._lock = RLock()
        # Read connections of the threads that found the main one busy, opened on demand.
        self._readers = local()
        self._opened_readers: list[sqlite3.Connection] = []
        self._connect()

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = None
        try:
            _create_private_file(self.path)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                 timeout=self._busy_timeout)
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            # A dependency that dies kills its dependents, whose trigger kills theirs.
            db.execute("PRAGMA recursive_triggers = ON")
            self.applied = migrate(db, self.path)
            stored = db.execute("SELECT value FROM config WHERE key = 'durability'").fetchone()
            level = os.environ.get("QUEUECTL_DURABILITY") or (stored[0] if stored else "")
            self._full = level != "normal"
            db.execute(f"PRAGMA synchronous = {'FULL' if self._full else 'NORMAL'}")
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                db.close()
            raise StorageError(f"cannot open database {self.path}: {self._reason(exc)}"
                               ) from exc
        except BaseException:
            if db is not None:
                db.close()
            raise
        self._db, self._pid = db, os.getpid()
        return db

    def connection(self) -> sqlite3.Connection:
        """This process's connection (for tests and tools: the store uses transactions)."""
        # A connection must never cross a fork: reconnect in a child process.
        if self._db is None or self._pid != os.getpid():
            return self._connect()
        return self._db

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
            for reader in self._opened_readers:
                reader.close()
        self._db = None
        self._opened_readers = []
        self._readers = local()

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (opened on first use, never across a fork)."""
        reader: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if reader is not None and self._readers.pid == os.getpid():
            return reader
        from urllib.parse import quote  # a dashboard's, not the enqueue's: imported here

        try:  # read-only: a read can never write by mistake (the path quoted for the URI)
            reader = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True,
                                     isolation_level=None, check_same_thread=False,
                                     timeout=self._busy_timeout)
            reader.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {self.path}: {self._reason(exc)}") from exc
        self._readers.db, self._readers.pid = reader, os.getpid()
        self._opened_readers.append(reader)  # list.append: atomic, no lock to wait for
        return reader

    def keep_trying(self) -> None:
        """Nothing to do: a local file does not go away and come back."""

    # -- transactions ------------------------------------------------------------------------

    def write(self, operation: Callable[[Transaction], T], *, claim: bool = False,
              durable: bool = True) -> T:
        called = time.monotonic()
        with self._lock:
            db = self.connection()
            # Outside a transaction only (SQLite refuses it inside one): this commit is not
            # fsynced; the next FULL one syncs the log up to and past it.
            relaxed = not durable and self._full
            try:
                if relaxed:
                    db.execute("PRAGMA synchronous = NORMAL")
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                if relaxed:
                    _full_again(db)
                raise self._error(exc, "cannot write to") from exc
            tx = _Transaction(db, self, "cannot write to", time.monotonic() - called)
            try:
                result = operation(tx)
                woken = self._workers_to_wake(db, tx) if tx.wake_requested else []
                db.execute("COMMIT")
            except sqlite3.Error as exc:  # the statements' own errors are translated already
                _rollback(db)
                raise self._error(exc, "cannot commit to") from exc
            except BaseException:
                _rollback(db)
                raise
            finally:
                if relaxed:
                    _full_again(db)
        if woken:
            self._send_wakeups(woken, stop=tx.wake_requested > 1)
        return result

    def read(self, operation: Callable[[Transaction], T], *, snapshot: bool = False) -> T:
        # The main connection if it is free, else this thread's own: never wait for another
        # thread's read (or write) to end.
        if self._lock.acquire(blocking=False):
            try:
                return self._read(self.connection(), operation, snapshot)
            finally:
                self._lock.release()
        return self._read(self._reader(), operation, snapshot)

    def _read(self, db: sqlite3.Connection, operation: Callable[[Transaction], T],
              snapshot: bool) -> T:
        tx = _Transaction(db, self, "cannot read")
        try:
            if snapshot:
                db.execute("BEGIN")
            result = operation(tx)
            woken = self._local_worker_ids(db) if tx.wake_requested else []
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read") from exc
        finally:
            if snapshot:
                _rollback(db)  # nothing was written: ending the snapshot is all it does
        if woken:
            self._send_wakeups(woken, stop=tx.wake_requested > 1)
        return result

    # -- wake-ups ----------------------------------------------------------------------------

    def clock(self) -> Clock:
        """This host's: every process that opens the file runs here."""
        from ...clock import SystemClock

        return SystemClock()

    def disconnect(self) -> None:
        """Nothing: a file's connection is no scarce resource."""

    def wake_channel(self, worker_id: str) -> WakeChannel:
        """The worker's datagram socket; ``WorkerIdTaken`` if a live process of this host
        holds its name: another worker runs under that id."""
        import errno

        from .wakeup import DatagramWakeChannel, channel_address

        try:
            return DatagramWakeChannel(channel_address(worker_id))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise WorkerIdTaken(worker_id) from None
            raise

    wakes_after_commit = False  # writers take turns: a listing and an enqueue are ordered

    @staticmethod
    def _workers_to_wake(db: sqlite3.Connection, tx: _Transaction) -> list[str]:
        """Whom a write wakes, picked in its transaction: to check in (a stop or a cancel),
        every worker of this host; for jobs, the idle ones their number needs, most recently
        idle first, taken off the idle list (storage/idle.py)."""
        if tx.wake_requested > 1:
            return SqliteDriver._local_worker_ids(db)
        chosen: list[str] = []
        covered = 0
        for worker_id, free in db.execute(_IDLE_WORKERS, (HOST,)).fetchall():
            if tx.wake_jobs is not None and covered >= tx.wake_jobs:
                break
            chosen.append(worker_id)
            covered += free
        for worker_id in chosen:
            db.execute(_FORGET_IDLE, {"worker_id": worker_id})
        return chosen

    @staticmethod
    def _local_worker_ids(db: sqlite3.Connection) -> list[str]:
        # Read in the transaction, before its commit: cheaper than a read of its own after.
        return [row[0] for row in db.execute(_LOCAL_WORKER_IDS, (HOST,))]

    @staticmethod
    def _send_wakeups(worker_ids: list[str], *, stop: bool) -> None:
        from .wakeup import channel_address, send_wakeups

        send_wakeups((channel_address(worker_id) for worker_id in worker_ids), stop=stop)

    # -- errors ------------------------------------------------------------------------------

    def _error(self, exc: sqlite3.Error, doing: str) -> Exception:
        """The error to raise for ``exc``: ``Conflict`` for a broken unique key, else one line
        that says what happened."""
        if isinstance(exc, sqlite3.IntegrityError) and str(exc).startswith("UNIQUE constraint"):
            return Conflict(str(exc))
        return StorageError(f"{doing} {self.path}: {self._reason(exc)}")

    def _reason(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        if text == "database is locked":
            return (f"database is locked: another process held it longer than the busy"
                    f" timeout ({self._busy_timeout:g} s)")
        if text == "database or disk is full" or (text == "disk I/O error" and self._disk_full()):
            return "the disk is full (or the database reached its size limit)"
        folder, name = os.path.split(self.path)
        if text == "unable to open database file" and not os.access(folder, os.W_OK):
            # Said as is, this named neither the folder nor why: the file is there to read.
            return (f"{text}: its folder {folder} is not writable (a read-only file system,"
                    f" or no permission), and SQLite in WAL mode creates {name}-wal and"
                    f" {name}-shm there to open it, even to read")
        return text

    def _disk_full(self) -> bool:
        """Whether the database's file system has no room left: SQLite reports some writes
        that fail for want of space (the shared-memory file, when opening) as I/O errors."""
        try:
            stats = os.statvfs(os.path.dirname(self.path))
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize < 65536


class _Transaction(NamedQueries):
    """Named queries on the driver's connection; see ``driver.Transaction``."""

    __slots__ = ("_db", "_doing", "_driver")
    job_rows = _ROWS

    def __init__(self, db: sqlite3.Connection, driver: SqliteDriver, doing: str,
                 late: float = 0.0) -> None:
        super().__init__(in_doubt=False, late=late)  # a local commit is never in doubt
        self._db = db
        self._driver = driver
        self._doing = doing

    def _execute(self, query: str, params: Params) -> sqlite3.Cursor:
        sql = QUERIES[query]
        try:
            if isinstance(sql, str):
                return self._db.execute(sql, params)
            for statement in sql[:-1]:
                self._db.execute(statement, params)
            return self._db.execute(sql[-1], params)
        except sqlite3.Error as exc:
            raise self._driver._error(exc, self._doing) from exc

    def many(self, query: str, rows: Iterable[Params]) -> None:
        try:
            self._db.executemany(QUERIES[query], rows)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            raise self._driver._error(exc, self._doing) from exc

    def each(self, query: str, rows: Sequence[Params]) -> list[Any]:
        return [self._execute(query, params).fetchone() for params in rows]

    @staticmethod
    def array(values: Iterable[Any]) -> str:
        import json

        return json.dumps(list(values))


def _full_again(db: sqlite3.Connection) -> None:
    try:
        db.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error:  # only inside a transaction, which a rollback ended: cannot happen
        pass


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back, if a transaction is still open: SQLite ends one by itself on some errors
    (a full disk), and a second error would only hide the first."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _busy_timeout() -> float:
    """How long a writer waits for another's lock: ``QUEUECTL_BUSY_TIMEOUT`` (a duration; for
    tests and operators who would rather fail fast), else ``BUSY_TIMEOUT``."""
    text = os.environ.get("QUEUECTL_BUSY_TIMEOUT")
    if not text:
        return BUSY_TIMEOUT
    from ...units import parse_duration

    seconds = parse_duration(text, field="QUEUECTL_BUSY_TIMEOUT")
    if not 0 < seconds <= 3600:
        from ...errors import InvalidInput

        raise InvalidInput(f"QUEUECTL_BUSY_TIMEOUT: must be between 1ms and 1h, got {text!r}")
    return max(0.001, round(seconds, 3))


def _create_private_file(path: str) -> None:
    """Create the database file (and its folder) readable by its owner only."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
