"""One PostgreSQL connection per store: where it points, and how it survives a lost server.

A store keeps one connection (opening one costs milliseconds, so workers keep theirs) and
re-opens it after a fork or when the server went away. Every operation runs through
``Connector.run``, which retries it on a fresh connection when the old one broke:

- while the operation had not reached COMMIT, nothing was written, so running it again is
  always safe;
- when the connection broke *during* COMMIT nobody knows whether it was applied: the operation
  runs again with ``in_doubt=True`` so that it can look for its own effects first.

A plain store (the CLI, the library) retries once and then fails with a clear error; a
patient one (a worker) keeps retrying with backoff until the server is back.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...errors import InvalidInput, StorageError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("queuectl.storage")

T = TypeVar("T")
DEFAULT_SCHEMA = "queuectl"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
# Connection classes worth a retry: 08 connection exception, 57P operator intervention
# (server shutting down or starting up), 40 transaction rolled back (deadlock, serialization).
_TRANSIENT_SQLSTATES = ("08", "57P", "40")
FIRST_DELAY, MAX_DELAY = 0.1, 5.0


@dataclass(frozen=True)
class PgLocation:
    conninfo: str  # what libpq receives: the URL without queuectl's own parameters
    schema: str
    display: str  # the URL without its password, for logs and messages


def parse_url(url: str) -> PgLocation:
    """Split ``postgresql://user@host/db?schema=name`` into libpq's part and the schema.

    A URL libpq would refuse (a port that is not a number, an unknown parameter) and a schema
    name PostgreSQL would refuse are ``InvalidInput`` here, before any connection is tried.
    """
    parts = urlsplit(url)
    if parts.scheme.endswith("+psycopg"):  # SQLAlchemy's spelling of the same URL
        parts = parts._replace(scheme=parts.scheme.removesuffix("+psycopg"))
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    schema = schemas[-1] if schemas else DEFAULT_SCHEMA
    if not _SCHEMA_NAME.match(schema) or schema.startswith("pg_"):
        raise InvalidInput(
            "schema: expected a lower-case name of letters, digits and _ not starting with"
            f" pg_, got {schema!r}"
        )
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    conninfo = urlunsplit(parts._replace(query=rest))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    display = urlunsplit(parts._replace(netloc=netloc))
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
        from psycopg.conninfo import conninfo_to_dict

        conninfo_to_dict(conninfo)
    except Exception as exc:  # ValueError from urllib, ProgrammingError from libpq
        raise InvalidInput(f"invalid database URL {display}: {_first_line(exc)}") from None
    return PgLocation(conninfo, schema, display)


def is_transient(exc: BaseException, conn: psycopg.Connection[Any] | None) -> bool:
    """True if ``exc`` says the server or the connection went away, not that the SQL was bad."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return False
    if conn is None or conn.broken or conn.closed:
        return True
    state = exc.sqlstate or ""
    return state.startswith(_TRANSIENT_SQLSTATES)


class Connector:
    """The store's connection, re-opened as needed; ``run`` executes one operation."""

    def __init__(self, location: PgLocation, *, patience: float = 0.0) -> None:
        self.location = location
        self.patience = patience  # seconds to keep retrying a lost server; math.inf: forever
        # durability = normal: commits return before the WAL is flushed. A server crash may lose
        # the last moments of acknowledged work, never consistency (like SQLite's NORMAL).
        self.synchronous_commit = True
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = -1
        self._lock = threading.RLock()
        self._closed = threading.Event()  # also the interruptible sleep between retries
        self._inherited: list[object] = []

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection whose search_path is the store's schema."""
        import psycopg
        from psycopg import sql

        conn = psycopg.connect(
            self.location.conninfo, autocommit=True,
            connect_timeout=5, application_name="queuectl",
            # Notice a vanished host within about 20 s instead of waiting on TCP for minutes.
            keepalives=1, keepalives_idle=10, keepalives_interval=3, keepalives_count=3,
        )
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.location.schema)))
        if not self.synchronous_commit:
            conn.execute("SET synchronous_commit TO off")
        return conn

    def connection(self) -> psycopg.Connection[Any]:
        """The open connection, opening one if there is none (or only the parent's)."""
        if self._pid != os.getpid():
            # Never use a connection across fork(): the parent still talks over that socket.
            if self._conn is not None:
                self._inherited.append(self._conn)
            self._conn, self._pid = None, os.getpid()
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._discard()
            self._conn = self.connect()
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection may fail to say goodbye; it is gone anyway
                pass
            self._conn = None

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._pid == os.getpid():
                self._discard()
            self._conn = None

    def run(self, operation: Callable[[psycopg.Connection[Any], bool], T], *,
            transaction: bool = True, begin: bytes = b"BEGIN") -> T:
        """Run ``operation(conn, in_doubt)``, in one transaction unless told otherwise.

        ``begin`` starts the transaction; it may carry ``SET LOCAL`` settings for it, sent in
        the same round trip.
        """
        import psycopg

        started = time.monotonic()
        delay = FIRST_DELAY
        in_doubt = False
        tries = 0
        while True:
            tries += 1
            conn: psycopg.Connection[Any] | None = None
            committing = False
            try:
                with self._lock:
                    conn = self.connection()
                    if not transaction:
                        return operation(conn, in_doubt)
                    conn.execute(begin)
                    try:
                        result = operation(conn, in_doubt)
                    except BaseException:
                        _rollback(conn)
                        raise
                    committing = True
                    conn.execute("COMMIT")
                    if tries > 1:
                        log.warning("database connection restored: %s", self.location.display)
                    return result
            except psycopg.Error as exc:
                if not is_transient(exc, conn):
                    raise StorageError(f"PostgreSQL error: {_first_line(exc)}") from exc
                in_doubt = in_doubt or (committing and (conn is None or conn.broken))
                waited = time.monotonic() - started
                if waited >= self.patience and tries > 1:
                    raise StorageError(
                        f"cannot reach PostgreSQL at {self.location.display}: {_first_line(exc)}"
                        + (" (the last change may or may not have been saved)" if in_doubt else "")
                    ) from exc
                if tries == 1 and self.patience > 0:
                    log.warning("lost the database connection (%s); retrying until it is back",
                                _first_line(exc))
                with self._lock:
                    self._discard()
                if tries > 1:
                    pause = min(delay, max(0.0, self.patience - waited))
                    if self._closed.wait(pause):
                        raise StorageError("the store was closed while reconnecting") from exc
                    delay = min(delay * 2, MAX_DELAY)


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if conn.broken or conn.closed:
        return
    try:
        conn.execute("ROLLBACK")
    except Exception:  # the original error matters more than a failed rollback
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
