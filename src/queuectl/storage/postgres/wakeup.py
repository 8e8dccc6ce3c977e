"""Wake-ups for idle workers on every host: PostgreSQL ``LISTEN``/``NOTIFY``.

A worker listens on the connection it works on: one connection per worker. Between its
transactions that connection is idle, and a notification makes its socket readable; one that
arrives during a transaction is handed to us by psycopg as the transaction reads its results.
Either way the channel rings a pipe of its own, and what the worker waits on is an epoll
descriptor holding both the pipe and the current socket, so that it stays the same descriptor
across reconnections.

Behind a pooler in transaction mode LISTEN cannot share the working connection (the server
session is lent per transaction, and would hear nothing between them): the channel then
listens on a connection of its own to ``listen_url``, a direct address of the server.

A lost connection costs latency only: the worker's fallback poll still finds the jobs. The
working connection is re-opened by the worker's next operation, the listening one on the next
operation after its backoff; either way the channel rings once on a new connection, since
wake-ups sent meanwhile were lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import time
from typing import TYPE_CHECKING, Any

from .connection import FIRST_DELAY, MAX_DELAY, Connector

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("queuectl.storage")

JOB = "j"
STOP = "s"


def channel_name(schema: str) -> str:
    """Every worker of the store listens here: stop and cancel requests."""
    return f"{schema}.wake"


def worker_channel(schema: str, worker_id: str) -> str:
    """Where one worker is woken for jobs. A worker id is any text, a channel name at most 63
    bytes: a digest of both, computed the same way by ``wake_idle_workers`` in SQL."""
    digest = hashlib.md5(f"{schema}/{worker_id}".encode(), usedforsecurity=False).hexdigest()
    return f"qw{digest[:24]}"


class ListenWakeChannel:
    """LISTEN on ``connector``'s connections. ``own``: the channel's own connector (a direct
    ``listen_url``), which it opens itself; otherwise the store's, opened by its operations."""

    def __init__(self, connector: Connector, channels: list[str], *, own: bool) -> None:
        self._connector = connector
        self._channels = channels
        self._own = own
        self._epoll = select.epoll()
        self._bell_read, self._bell_write = os.pipe()
        os.set_blocking(self._bell_read, False)
        os.set_blocking(self._bell_write, False)
        self._epoll.register(self._bell_read, select.EPOLLIN)
        self._socket = -1  # the listening connection's socket, while registered
        self._stop_heard = False
        self._next_try = 0.0
        self._delay = FIRST_DELAY
        self._closed = False
        connector.on_connect.append(self._attach)
        with connector.lock:
            conn = connector.current()
            if conn is not None and not conn.closed and not conn.broken:
                self._attach(conn, False)
        if own:
            self._open(first=True)

    def _attach(self, conn: psycopg.Connection[Any], reconnected: bool) -> None:
        """LISTEN on a new connection and wait on its socket."""
        from psycopg import sql

        conn.execute(b"; ".join(
            sql.SQL("LISTEN {}").format(sql.Identifier(name)).as_string(conn).encode()
            for name in self._channels))
        conn.add_notify_handler(self._heard)
        self._forget_socket()
        self._socket = conn.fileno()
        self._epoll.register(self._socket, select.EPOLLIN)
        if reconnected:
            self._ring()  # wake-ups sent while we were away are lost: look once

    def _heard(self, notify: psycopg.Notify) -> None:
        if notify.payload == STOP:
            self._stop_heard = True
        self._ring()

    def _ring(self) -> None:
        try:
            os.write(self._bell_write, b"x")
        except OSError:
            pass  # full of rings already

    def _forget_socket(self) -> None:
        if self._socket >= 0:
            try:
                self._epoll.unregister(self._socket)
            except OSError:
                pass  # closed already, which took it out of the epoll set
            self._socket = -1

    def fileno(self) -> int:
        return self._epoll.fileno()

    @property
    def reliable(self) -> bool:
        """Listening on a live connection: a NOTIFY sent now reaches us (or, if the
        connection breaks meanwhile, the reconnection rings)."""
        return self._socket >= 0 and not self._closed

    def drain(self) -> bool:
        import psycopg

        with self._connector.lock:
            conn = self._connector.current()
            if conn is not None and not conn.closed and not conn.broken:
                try:
                    self._read_idle_connection(conn)
                except psycopg.Error:
                    log.warning("lost the connection wake-ups arrive on; polling until it is"
                                " back")
                    self._connector.discard()
                    self._forget_socket()
                    self._next_try = time.monotonic() + self._delay
            elif self._socket >= 0:
                self._forget_socket()
        try:
            while os.read(self._bell_read, 4096):
                pass
        except BlockingIOError:
            pass
        stop, self._stop_heard = self._stop_heard, False
        return stop

    def _read_idle_connection(self, conn: psycopg.Connection[Any]) -> None:
        """Read what arrived while the connection was idle: notifications go to ``_heard``.
        A server that ended the session sends a last message, then closes: reading on until
        the socket is quiet finds the end (an error), so that a closed socket never keeps
        waking the worker."""
        import psycopg
        from psycopg import pq

        for _ in range(8):
            conn.pgconn.consume_input()
            while (pgn := conn.pgconn.notifies()) is not None:
                self._heard(psycopg.Notify(pgn.relname.decode(), pgn.extra.decode(),
                                           pgn.be_pid))
            if conn.pgconn.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError("the connection was closed")
            if not _readable(conn.fileno()):
                return
        raise psycopg.OperationalError("the connection keeps sending without being asked")

    def revive(self) -> None:
        """Re-open an own listening connection that was lost, once its backoff has passed
        (the store calls this after each operation: a worker makes one every heartbeat)."""
        if (self._own and not self._closed and self._socket < 0
                and time.monotonic() >= self._next_try):
            self._open(first=False)

    def _open(self, *, first: bool) -> None:
        from ...errors import StorageError

        try:
            self._connector.run(lambda conn, _: None, transaction=False)
        except StorageError as exc:
            if first:
                raise StorageError(f"cannot listen for wake-ups: {exc}") from exc
            self._next_try = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, MAX_DELAY)
            return
        self._delay = FIRST_DELAY
        if not first:
            log.info("listening for wake-ups again")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._attach in self._connector.on_connect:
            self._connector.on_connect.remove(self._attach)
        with self._connector.lock:
            conn = self._connector.current()
            if conn is not None and not conn.closed and not conn.broken and not self._own:
                try:
                    conn.remove_notify_handler(self._heard)
                    conn.execute(b"UNLISTEN *")  # the store goes on without a listener
                except Exception:  # it broke meanwhile: it listens to nothing any more
                    pass
        if self._own:
            self._connector.close()
        self._forget_socket()
        self._epoll.close()
        os.close(self._bell_read)
        os.close(self._bell_write)


class SilentWakeChannel:
    """No wake-ups: behind a pooler without a ``listen_url`` a worker polls."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # never written, so never readable
        self._closed = False

    def fileno(self) -> int:
        return self._read

    reliable = False  # nothing is heard: the worker polls

    def drain(self) -> bool:
        return False

    def revive(self) -> None:
        pass

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._read)
            os.close(self._write)


def _readable(fd: int) -> bool:
    """Whether ``fd`` has something to read now (poll: select() refuses descriptors past 1023,
    which a worker with many slots may well hand out)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
