"""The PostgreSQL driver: one database for workers on many hosts.

Its tables live in their own schema (``?schema=name``, default ``queuectl``), migrated on open.
A store keeps one connection, re-opened after a fork or a lost server (``connection.py``), and
lends reads a few more while that one is busy (``ReadPool``), so that a slow read on the
dashboard never holds up another. An operation cut off before COMMIT runs again; one cut
off *during* COMMIT runs again with ``in_doubt`` set, so that it looks for what the lost
commit may have done. Wake-ups reach
workers on every host through ``LISTEN``/``NOTIFY``, sent once per transaction and delivered
when (and only if) it commits. The driver, psycopg 3, is imported only by this package.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from ..driver import Conflict, NamedQueries
from ..rows import JobRows
from ..sql import load_queries
from .connection import Connector, parse_url
from .migrate import migrate
from .read_pool import ReadPool
from .server_clock import ServerClock
from .wakeup import STOP, ListenWakeChannel, SilentWakeChannel, channel_name, worker_channel

if TYPE_CHECKING:
    from ..base import WakeChannel
    from ..driver import Params, Transaction

T = TypeVar("T")
# Bytes: psycopg takes a query as bytes when it is not a literal in the source.
QUERIES = {name: text.encode() for name, text in
           load_queries(Path(__file__).with_name("queries.sql")).items()}
# A claim must walk jobs_ready in claim order and stop after a few rows. Until a queue's first
# ANALYZE, the planner takes the jobs table for empty and would rather sort every ready row
# (measured: 66 ms per claim at 100,000 pending, against 1 ms): no sort, then. (Limited
# queues are locked by the claim itself, and only those it reaches: claims.py.)
_BEGIN_CLAIM = b"BEGIN; SET LOCAL enable_sort = off"
_BEGIN_SNAPSHOT = b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_NOTIFY = b"SELECT pg_notify(%s, %s)"
_ROWS = JobRows(tuple)  # lists are arrays


class _PipelineNoise(logging.Filter):
    """psycopg logs a second error when a failed ``executemany`` (a duplicate id in an
    import) ends its pipeline; the first one is raised, and is the one that matters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored terminating")


logging.getLogger("psycopg").addFilter(_PipelineNoise())
log = logging.getLogger("queuectl.storage")


class PostgresDriver:
    def __init__(self, url: str) -> None:
        location = parse_url(url)
        # The URL as given (password included): a worker re-opens its own store from it.
        self.url = url
        self.schema = location.schema
        self.connector = Connector(location)
        self._channel = channel_name(location.schema)
        from psycopg import sql

        self._wake_function = b"SELECT " + sql.Identifier(location.schema).as_bytes() + (
            b".wake_idle_workers")
        try:
            self.applied: list[str] = self.connector.run(  # the migrations this open applied
                lambda conn, _: migrate(conn, self.schema, location.display), transaction=False)
            stored = self.connector.run(lambda conn, _: conn.execute(
                b"SELECT value FROM config WHERE key = 'durability'").fetchone(),
                transaction=False)
        except BaseException:
            self.connector.close()  # a refused schema, a server gone: no connection left open
            raise
        if (os.environ.get("QUEUECTL_DURABILITY") or (stored[0] if stored else "")) == "normal":
            self.connector.synchronous_commit = False  # for the connections opened from now
            if not location.pooled:
                self.connector.run(lambda conn, _: conn.execute("SET synchronous_commit TO off"),
                                   transaction=False)
        self._listener: ListenWakeChannel | SilentWakeChannel | None = None
        self._readers = ReadPool(location)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._readers.close()
        self.connector.close()

    def disconnect(self) -> None:
        self.connector.discard()

    def keep_trying(self) -> None:
        self.connector.patience = math.inf

    wakes_after_commit = True

    def _wake_idle(self, jobs: int | None) -> bytes:
        """The call that wakes idle workers for ``jobs`` jobs (None: all idle workers);
        schema-qualified, for it runs after the commit (behind a pooler, on whatever
        session comes next)."""
        return self._wake_function + (b"(NULL)" if jobs is None else b"(%d)" % jobs)

    def clock(self) -> ServerClock:
        return self.connector.clock

    def write(self, operation: Callable[[Transaction], T], *, claim: bool = False,
              durable: bool = True) -> T:
        called = time.monotonic()
        ending = [b"COMMIT"]

        def attempt(conn: psycopg.Connection[Any], in_doubt: bool) -> T:
            if self.connector.clock.due():
                self.connector.measure_clock(conn)
            tx = _Transaction(conn, in_doubt, time.monotonic() - called)
            result = operation(tx)
            ending[0] = b"COMMIT"
            if tx.wake_requested > 1:  # every worker checks in: delivered at the commit
                conn.execute(_NOTIFY, (self._channel, STOP))
            elif tx.wake_requested:
                # Idle workers are picked once the jobs are visible, in the commit's round
                # trip (see 0007_idle_workers.sql and idle.py).
                ending[0] = b"COMMIT; " + self._wake_idle(tx.wake_jobs)
            return result

        try:
            begin = _BEGIN_CLAIM if claim else b"BEGIN"
            if not durable:  # see Driver.write: this commit does not wait for the WAL flush
                begin += b"; SET LOCAL synchronous_commit TO off"
            return self.connector.run(attempt, begin=begin, commit=lambda: ending[0])
        finally:
            if self._listener is not None:
                self._listener.revive()

    def read(self, operation: Callable[[Transaction], T], *, snapshot: bool = False) -> T:
        def attempt(conn: psycopg.Connection[Any], in_doubt: bool) -> T:
            tx = _Transaction(conn, in_doubt, 0.0)
            result = operation(tx)
            if tx.wake_requested > 1:
                conn.execute(_NOTIFY, (self._channel, STOP))
            elif tx.wake_requested:
                conn.execute(self._wake_idle(tx.wake_jobs))
            return result

        def run(connector: Connector) -> T:
            if snapshot:
                return connector.run(attempt, begin=_BEGIN_SNAPSHOT)
            return connector.run(attempt, transaction=False)

        # The store's connection if it is free, else one lent by the pool: a read never
        # waits for another thread's read (or write) to end.
        if not self.connector.lock.acquire(blocking=False):
            return self._readers.run(run)
        try:
            return run(self.connector)
        finally:
            self.connector.lock.release()
            if self._listener is not None:
                self._listener.revive()

    def wake_channel(self, worker_id: str) -> WakeChannel:
        """Where a worker hears of new jobs: on its own working connection (one connection per
        worker), or behind a pooler on a direct one to ``listen_url`` (see wakeup.py)."""
        location = self.connector.location
        channels = [self._channel, worker_channel(self.schema, worker_id)]
        channel: ListenWakeChannel | SilentWakeChannel
        if location.listen_url is not None:
            direct = Connector(replace(parse_url(location.listen_url), pooled=False))
            channel = ListenWakeChannel(direct, channels, own=True)
        elif location.pooled:
            log.info("behind a pooler without listen_url: idle workers poll for jobs")
            channel = SilentWakeChannel()
        else:
            channel = ListenWakeChannel(self.connector, channels, own=False)
        self._listener = channel
        return channel


class _Transaction(NamedQueries):
    """Named queries on the store's connection; see ``driver.Transaction``.

    Errors other than a broken unique key are left to ``Connector.run``, which tells a lost
    connection (run again) from a refused statement (``StorageError``).
    """

    __slots__ = ("_conn",)
    job_rows = _ROWS

    def __init__(self, conn: psycopg.Connection[Any], in_doubt: bool, late: float) -> None:
        super().__init__(in_doubt, late)
        self._conn = conn

    def _execute(self, query: str, params: Params) -> psycopg.Cursor[Any]:
        try:
            return self._conn.execute(QUERIES[query], params or None)
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(_first_line(exc)) from exc

    def many(self, query: str, rows: Iterable[Params]) -> None:
        sql = QUERIES[query]
        if not sql:  # nothing to do in this database (see queries.sql)
            return
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(sql, rows)
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(_first_line(exc)) from exc

    def each(self, query: str, rows: Sequence[Params]) -> list[Any]:
        """One round trip for all of ``rows`` (psycopg pipelines ``executemany``)."""
        if not rows:
            return []
        found: list[Any] = []
        with self._conn.cursor() as cursor:
            cursor.executemany(QUERIES[query], rows, returning=True)
            while True:  # one result set per item of rows
                found.append(cursor.fetchone())
                if not cursor.nextset():
                    break
        return found

    @staticmethod
    def array(values: Iterable[Any]) -> list[Any]:
        return list(values)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
