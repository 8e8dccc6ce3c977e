"""Wake-ups for idle workers on every host: PostgreSQL ``LISTEN``/``NOTIFY``.

Each worker keeps one extra connection that only listens on the store's channel; its socket
is what the worker waits on. An enqueue notifies inside its transaction, so the wake-up is
delivered exactly when the jobs become visible. A lost listening connection costs latency
only: the worker's fallback poll still finds the jobs, and the channel reconnects (with
backoff) the next time the worker asks for its ``fileno``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .connection import FIRST_DELAY, MAX_DELAY

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("queuectl.storage")

JOB = "j"
STOP = "s"


def channel_name(schema: str) -> str:
    return f"{schema}.wake"


class ListenWakeChannel:
    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], channel: str) -> None:
        self._connect = connect
        self._channel = channel
        self._conn: psycopg.Connection[Any] | None = None
        # Stands in for the socket while disconnected: never written, so never readable.
        self._idle_read, self._idle_write = os.pipe()
        self._next_try = 0.0
        self._delay = FIRST_DELAY
        self._listen(first=True)

    def _listen(self, *, first: bool = False) -> None:
        import psycopg
        from psycopg import sql

        try:
            conn = self._connect()
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            if not first:
                # Wake-ups sent while we were away are lost: wake ourselves once to look.
                conn.execute("SELECT pg_notify(%s, %s)", (self._channel, JOB))
        except psycopg.Error as exc:
            if first:
                from ...errors import StorageError

                raise StorageError(f"cannot listen for wake-ups: {exc}") from exc
            self._next_try = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, MAX_DELAY)
            return
        self._conn, self._delay = conn, FIRST_DELAY
        if not first:
            log.info("listening for wake-ups again")

    def fileno(self) -> int:
        if self._conn is None and time.monotonic() >= self._next_try:
            self._listen()
        return self._conn.fileno() if self._conn is not None else self._idle_read

    def drain(self) -> bool:
        import psycopg

        if self._conn is None:
            return False
        stop = False
        try:
            for notify in self._conn.notifies(timeout=0):
                stop = stop or notify.payload == STOP
        except psycopg.Error:
            log.warning("lost the wake-up connection; relying on polling until it is back")
            self._drop()
        return stop

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # it is broken already; closing only frees it
                pass
            self._conn = None
            self._next_try = time.monotonic() + self._delay

    def close(self) -> None:
        self._drop()
        os.close(self._idle_read)
        os.close(self._idle_write)
