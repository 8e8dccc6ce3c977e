"""The durability setting reaches SQLite: fsync on every commit unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.storage.sqlite.driver import SqliteDriver

FULL, NORMAL = 2, 1  # PRAGMA synchronous values


def synchronous(storage: object) -> int:
    driver = getattr(storage, "db", None)
    assert isinstance(driver, SqliteDriver)
    value: int = driver.connection().execute("PRAGMA synchronous").fetchone()[0]
    return value


def test_full_by_default_and_normal_when_configured(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        assert synchronous(queue.storage) == FULL
        queue.config_set("durability", "normal")
    with Queue(db_path, environ={}) as queue:
        assert synchronous(queue.storage) == NORMAL
        worker = queue.worker()
        assert synchronous(worker.storage) == NORMAL


def test_environment_overrides_the_stored_durability(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.config_set("durability", "normal")
    monkeypatch.setenv("QUEUECTL_DURABILITY", "full")
    with Queue(db_path) as queue:
        assert synchronous(queue.storage) == FULL
