"""One PostgreSQL connection per store: where it points, and how it survives a lost server.

A store keeps one connection (opening one costs milliseconds, so workers keep theirs) and
re-opens it after a fork or when the server went away. Every operation runs through
``Connector.run``, which retries it on a fresh connection when the old one broke:

- while the operation had not reached COMMIT, nothing was written, so running it again is
  always safe;
- when the connection broke *during* COMMIT nobody knows whether it was applied: the operation
  runs again with ``in_doubt=True`` so that it can look for its own effects first.

A plain store (the CLI, the library) retries once and then fails with a clear error
(``DatabaseUnreachable``, which ``wait``, ``logs --follow`` and a starting worker wait out); a
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

from ...errors import DatabaseUnreachable, InvalidInput, StorageError
from .server_clock import SERVER_TIME, ServerClock

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("queuectl.storage")

T = TypeVar("T")
DEFAULT_SCHEMA = "queuectl"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
# Connection classes worth a retry: 08 connection exception, 57P operator intervention
# (server shutting down or starting up), 40 transaction rolled back (deadlock, serialization).
_TRANSIENT_SQLSTATES = ("08", "57P", "40")
# A worker waiting for a lost server tries at least once a second: once the server is back it
# must renew its leases within a lease of the first worker to reconnect, which rescues nobody
# for that long (outage.py); a 5 s pause lost that race with a 4 s lease.
FIRST_DELAY, MAX_DELAY = 0.1, 1.0


@dataclass(frozen=True)
class PgLocation:
    conninfo: str  # what libpq receives: the URL without queuectl's own parameters
    schema: str
    display: str  # the URL without its password, for logs and messages
    # Behind a pooler in transaction mode (PgBouncer's pool_mode=transaction) a session is
    # only lent for one transaction: nothing is set for the session, statements are never
    # prepared, and wake-ups are heard on a direct connection (listen_url) if one is given.
    pooled: bool = False
    listen_url: str | None = None


_OWN_PARAMETERS = ("schema", "pool_mode", "listen_url")


def parse_url(url: str) -> PgLocation:
    """Split ``postgresql://user@host/db?schema=name`` into libpq's part and queuectl's own
    parameters: ``schema``, ``pool_mode=transaction`` (behind PgBouncer in transaction mode)
    and ``listen_url`` (a direct, percent-encoded URL to hear wake-ups on, past the pooler).

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
    pool_modes = [value for key, value in query if key == "pool_mode"]
    if pool_modes and pool_modes[-1] not in ("session", "transaction"):
        raise InvalidInput(f"pool_mode: expected session or transaction, got {pool_modes[-1]!r}")
    pooled = bool(pool_modes) and pool_modes[-1] == "transaction"
    listen_urls = [value for key, value in query if key == "listen_url"]
    listen_url = listen_urls[-1] if listen_urls else None
    if listen_url is not None and urlsplit(listen_url).scheme.removesuffix("+psycopg") not in (
            "postgresql", "postgres"):
        raise InvalidInput("listen_url: expected a postgresql:// URL (percent-encoded)")
    rest = urlencode([(key, value) for key, value in query if key not in _OWN_PARAMETERS])
    conninfo = urlunsplit(parts._replace(query=rest))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    # listen_url may hold a password of its own: it is left out of what is shown.
    shown = urlencode([(key, value) for key, value in query if key != "listen_url"])
    display = urlunsplit(parts._replace(netloc=netloc, query=shown))
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
        from psycopg.conninfo import conninfo_to_dict

        conninfo_to_dict(conninfo)
    except Exception as exc:  # ValueError from urllib, ProgrammingError from libpq
        raise InvalidInput(f"invalid database URL {display}: {_first_line(exc)}") from None
    return PgLocation(conninfo, schema, display, pooled, listen_url)


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
        # Called with each new connection, and whether one was open before: the wake
        # channel LISTENs on it (wakeup.py).
        self.on_connect: list[Callable[[psycopg.Connection[Any], bool], None]] = []
        self._connected_before = False
        self.clock = ServerClock()  # measured on each new connection

    @property
    def lock(self) -> threading.RLock:
        """Held while the connection is in use; the wake channel takes it to read wake-ups."""
        return self._lock

    def _settings(self) -> list[tuple[str, str]]:
        settings = [("search_path", self.location.schema)]
        if not self.synchronous_commit:
            settings.append(("synchronous_commit", "off"))
        return settings

    def transaction_prelude(self) -> bytes:
        """What a transaction sets for itself behind a pooler (``SET LOCAL``), sent with its
        BEGIN; nothing on a connection of our own, where the session holds those settings."""
        if not self.location.pooled:
            return b""
        from psycopg import sql

        return b"".join(
            b"; " + sql.SQL("SET LOCAL {} TO {}").format(
                sql.Identifier(name), sql.Literal(value)).as_string().encode()
            for name, value in self._settings())

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection whose search_path is the store's schema (behind a pooler: whose
        transactions set it, see ``transaction_prelude``)."""
        import psycopg
        from psycopg import sql

        # The URL's own application_name or connect_timeout, if it has one, wins.
        defaults: dict[str, Any] = {"application_name": "queuectl", "connect_timeout": 5}
        conn = psycopg.connect(
            self.location.conninfo, autocommit=True,
            **{key: value for key, value in defaults.items()
               if f"{key}=" not in self.location.conninfo},
            # Notice a vanished host within about 20 s instead of waiting on TCP for minutes.
            keepalives=1, keepalives_idle=10, keepalives_interval=3, keepalives_count=3,
        )
        settings = b""
        if self.location.pooled:
            # Statements prepared on one server session do not exist on the next one lent.
            conn.prepare_threshold = None
        else:
            settings = b"; ".join(
                sql.SQL("SET {} TO {}").format(sql.Identifier(name), sql.Literal(value))
                .as_string(conn).encode() for name, value in self._settings())
        self.measure_clock(conn, settings)  # in the same round trip as the settings
        return conn

    def measure_clock(self, conn: psycopg.Connection[Any], before: bytes = b"") -> None:
        """Measure the offset of the server's clock (``before``: statements to send first, in
        the same round trip)."""
        sent = time.time()
        cursor = conn.execute(before + b"; " + SERVER_TIME if before else SERVER_TIME)
        received = time.time()
        while cursor.description is None and cursor.nextset():
            pass
        row = cursor.fetchone()
        if row is not None:
            self.clock.measured(float(row[0]), sent, received)

    def connection(self) -> psycopg.Connection[Any]:
        """The open connection, opening one if there is none (or only the parent's)."""
        if self._pid != os.getpid():
            # Never use a connection across fork(): the parent still talks over that socket.
            if self._conn is not None:
                self._inherited.append(self._conn)
            self._conn, self._pid = None, os.getpid()
            self._connected_before = False
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._discard()
            conn = self.connect()
            reconnected, self._connected_before = self._connected_before, True
            try:
                for hook in self.on_connect:
                    hook(conn, reconnected)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def current(self) -> psycopg.Connection[Any] | None:
        """The open connection of this process, if any (opening none)."""
        return self._conn if self._pid == os.getpid() else None

    def discard(self) -> None:
        """Forget the connection (it broke); the next operation opens a new one."""
        with self._lock:
            self._discard()

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
            transaction: bool = True, begin: bytes = b"BEGIN",
            commit: Callable[[], bytes] | None = None) -> T:
        """Run ``operation(conn, in_doubt)``, in one transaction unless told otherwise.

        ``begin`` starts the transaction; it may carry ``SET LOCAL`` settings for it, sent in
        the same round trip. ``commit``, asked after the operation, gives the statement that
        ends it: COMMIT, and what must follow the commit in the same round trip. Behind a
        pooler every operation is a transaction: a session's settings last only for one.
        """
        import psycopg

        if not transaction and self.location.pooled:
            transaction = True
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
                    opening = begin
                    if self.location.pooled:  # the settings first: the rest may need them
                        first, sep, rest = begin.partition(b";")
                        opening = first + self.transaction_prelude() + sep + rest
                    conn.execute(opening)
                    try:
                        result = operation(conn, in_doubt)
                    except BaseException:
                        _rollback(conn)
                        raise
                    committing = True
                    conn.execute(commit() if commit is not None else b"COMMIT")
                    if tries > 1:
                        log.warning("database connection restored: %s", self.location.display)
                    return result
            except psycopg.Error as exc:
                if not is_transient(exc, conn):
                    raise StorageError(f"PostgreSQL error: {_first_line(exc)}") from exc
                in_doubt = in_doubt or (committing and (conn is None or conn.broken))
                waited = time.monotonic() - started
                if waited >= self.patience and tries > 1:
                    raise DatabaseUnreachable(
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
