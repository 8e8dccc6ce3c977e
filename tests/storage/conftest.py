"""The ``storage`` fixture: every contract test runs once per backend.

SQLite gets a fresh file per test; PostgreSQL a fresh schema per test, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from queuectl.models import Job
from queuectl.storage import Storage, open_storage
from tests.postgres.support import private_schema

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "queue.db")
    else:
        with private_schema() as url:
            yield url


@pytest.fixture
def second_storage(storage_url: str, tmp_path: Path) -> Iterator[Storage]:
    """Another, empty store of the same backend."""
    if "://" not in storage_url:
        store = open_storage(str(tmp_path / "second.db"))
        yield store
        store.close()
        return
    with private_schema() as url:
        store = open_storage(url)
        yield store
        store.close()


@pytest.fixture
def open_store(storage_url: str) -> Iterator[Callable[[], Storage]]:
    """Opens more stores on the same database (each with its own connection)."""
    opened: list[Storage] = []

    def open_one() -> Storage:
        opened.append(open_storage(storage_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def storage(open_store: Callable[[], Storage]) -> Storage:
    return open_store()


def stored(storage: Storage, job_id: str) -> Job:
    """The job ``job_id`` as stored, which the test has made (``get`` returns None for none)."""
    job = storage.get(job_id)
    assert job is not None, f"no job {job_id!r}"
    return job


def execute_raw(storage: Storage, statement: str) -> list[Any]:
    """Run plain SQL on either backend (tests only: to set up what no verb can, or EXPLAIN)."""
    from queuectl.storage.sqlite.driver import SqliteDriver

    driver = getattr(storage, "db", None)
    if isinstance(driver, SqliteDriver):
        return [tuple(row) for row in driver.connection().execute(statement).fetchall()]
    from queuectl.storage.postgres.driver import PostgresDriver

    assert isinstance(driver, PostgresDriver)

    def run(conn: Any, in_doubt: bool) -> list[Any]:
        cursor = conn.execute(statement.encode())
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    return driver.connector.run(run, transaction=False)
