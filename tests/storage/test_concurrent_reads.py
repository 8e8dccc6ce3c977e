"""Reads from several threads run side by side: a slow one (a cold ``/metrics`` scrape) holds
up no other read, on either backend."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from queuectl.storage import Storage


def test_a_read_does_not_wait_behind_a_slow_one(storage: Storage) -> None:
    slow_started, release = threading.Event(), threading.Event()
    slow_result: list[Any] = []

    def slow(tx: Any) -> Any:
        slow_started.set()
        assert release.wait(30), "the test never released the slow read"
        return tx.all("count_by_state")

    thread = threading.Thread(target=lambda: slow_result.append(storage.db.read(slow)))
    thread.start()
    try:
        assert slow_started.wait(30)
        # The slow read holds the store's connection until released: this read must finish
        # on a connection of its own meanwhile (it would hang if it waited for the first).
        done: list[Any] = []
        reader = threading.Thread(target=lambda: done.append(storage.count_by_state()))
        reader.start()
        reader.join(30)
        assert done, "a read waited for another thread's slow read"
        assert thread.is_alive() and not release.is_set()
    finally:
        release.set()
        thread.join(30)
    assert slow_result == [[]]


def test_a_read_of_its_own_opens_a_database_whose_path_needs_quoting(tmp_path: Path) -> None:
    from queuectl.storage import open_storage
    from queuectl.storage.sqlite.driver import SqliteDriver

    store = open_storage(tmp_path / "a dir #1 ?x=%20" / "queue.db")
    try:
        assert isinstance(store.db, SqliteDriver)
        with store.db._lock:  # the main connection: busy
            done: list[Any] = []
            reader = threading.Thread(target=lambda: done.append(store.count_by_state()))
            reader.start()
            reader.join(30)
        assert done and sum(done[0].values()) == 0
    finally:
        store.close()
