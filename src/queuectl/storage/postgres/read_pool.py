"""Connections lent to reads while the store's own one is busy (the dashboard's threads).

A dashboard serves requests from several threads; with one connection, a slow read (a cold
``/metrics`` scrape) held every other behind it. The pool opens a connection when a read finds
none idle, up to ``size``; past that a read waits for one to come back. Each is a
``Connector`` of its own, so a lost server is survived as on the store's connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from .connection import Connector, PgLocation

T = TypeVar("T")
POOL_SIZE = 4  # reads at once past the store's connection: a dashboard's handful of requests


class ReadPool:
    def __init__(self, location: PgLocation, size: int = POOL_SIZE) -> None:
        self._location = location
        self._size = size
        self._idle: list[Connector] = []
        self._opened: list[Connector] = []
        self._returned = threading.Condition()

    def run(self, read: Callable[[Connector], T]) -> T:
        connector = self._borrow()
        try:
            return read(connector)
        finally:
            with self._returned:
                self._idle.append(connector)
                self._returned.notify()

    def _borrow(self) -> Connector:
        with self._returned:
            while not self._idle and len(self._opened) >= self._size:
                self._returned.wait()
            if self._idle:
                return self._idle.pop()
            connector = Connector(self._location)  # connects on its first use
            self._opened.append(connector)
            return connector

    def close(self) -> None:
        with self._returned:
            for connector in self._opened:
                connector.close()
            self._opened.clear()
            self._idle.clear()
