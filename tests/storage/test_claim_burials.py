"""A job whose row cannot be read is buried dead in the claim's transaction (claims.py), and
said so once: when that transaction commits, not each time a try of it ran and rolled back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from queuectl.errors import StorageError
from queuectl.models import JobState, NewJob
from queuectl.storage import Storage, open_storage
from tests.postgres.support import PG_URL, private_schema

from .conftest import execute_raw, stored

T0 = 1_767_225_600.0
BURIED = "job bad dead (unreadable row: env is not JSON: '{bad')"


def _unreadable_first(storage: Storage, *others: NewJob) -> None:
    """``bad`` first in claim order, its env not JSON (edited by hand), then ``others``."""
    storage.enqueue([NewJob("bad", "true", 0), *others], T0)
    execute_raw(storage, "UPDATE jobs SET priority = 5, env = '{bad' WHERE id = 'bad'")


def _burials(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == "queuectl.storage" and " dead (" in record.getMessage()]


def _refuse_claims_of(storage: Storage, storage_url: str, job_id: str) -> None:
    """A fault in the claim's transaction, after the burial: the claim of ``job_id`` fails."""
    if "://" not in storage_url:
        execute_raw(storage, f"""CREATE TRIGGER refuse_claim BEFORE UPDATE OF state ON jobs
            WHEN NEW.id = '{job_id}' AND NEW.state = 'processing'
            BEGIN SELECT RAISE(ABORT, 'injected fault'); END""")
        return
    execute_raw(storage, """CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql
        AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$""")
    execute_raw(storage, f"""CREATE TRIGGER refuse_claim BEFORE UPDATE ON jobs FOR EACH ROW
        WHEN (NEW.id = '{job_id}' AND NEW.state = 'processing')
        EXECUTE FUNCTION refuse_claim()""")


def test_a_claim_that_failed_after_a_burial_logs_nothing_and_its_retry_logs_it_once(
        storage: Storage, storage_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The claim buries ``bad``, then fails (a storage error): rolled back, ``bad`` is ready
    again, and the worker's next claim buries it again."""
    _unreadable_first(storage, NewJob("next", "true", 0))
    _refuse_claims_of(storage, storage_url, "next")
    with caplog.at_level("WARNING", logger="queuectl.storage"):
        with pytest.raises(StorageError, match="injected fault"):
            storage.record_and_claim("w", [], 1, T0, T0 + 30)
        assert stored(storage, "bad").state is JobState.PENDING  # the burial rolled back
        execute_raw(storage, "DROP TRIGGER refuse_claim" + (
            " ON jobs" if "://" in storage_url else ""))
        claimed, _ = storage.record_and_claim("w", [], 1, T0 + 1, T0 + 31)
    assert [job.id for job in claimed] == ["next"]
    assert stored(storage, "bad").state is JobState.DEAD
    assert _burials(caplog) == [BURIED]


@pytest.fixture
def pg_storage() -> Iterator[tuple[Storage, str]]:
    """A PostgreSQL store in a schema of its own, and that schema's name."""
    with private_schema() as url:
        store = open_storage(url)
        yield store, url.split("schema=")[1].split("&")[0]
        store.close()


@pytest.mark.postgres
def test_a_claim_retried_on_a_new_connection_logs_its_burial_once(
        pg_storage: tuple[Storage, str], caplog: pytest.LogCaptureFixture) -> None:
    """The connection dies after the burial, while the claim waits for a limited queue's
    lock: the driver runs the whole claim again on a new connection."""
    import psycopg

    storage, schema = pg_storage
    storage.set_queue_limit("video", 1)
    _unreadable_first(storage, NewJob("next", "true", 0, queue="video"))
    errors: list[BaseException] = []
    claimed: list[str] = []

    def claim() -> None:
        try:
            claimed.extend(job.id for job in storage.record_and_claim("w", [], 1, T0,
                                                                      T0 + 30)[0])
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    with psycopg.connect(PG_URL) as holder, psycopg.connect(PG_URL, autocommit=True) as admin, \
            caplog.at_level("WARNING", logger="queuectl.storage"):
        holder.execute(f"SELECT name FROM {schema}.queues WHERE name = 'video' FOR UPDATE")
        claimer = threading.Thread(target=claim)
        claimer.start()
        held_by = holder.info.backend_pid
        waiting = _wait_for(lambda: admin.execute(  # the claim, waiting for the queue's lock
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (held_by,)).fetchone())
        admin.execute("SELECT pg_terminate_backend(%s)", waiting)
        holder.rollback()  # the queue's lock: the retry takes it
        claimer.join(timeout=30)
    assert errors == [] and claimed == ["next"]
    assert stored(storage, "bad").state is JobState.DEAD
    assert _burials(caplog) == [BURIED]


@pytest.mark.postgres
def test_a_burial_committed_in_doubt_is_logged_once(
        pg_storage: tuple[Storage, str], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection died during COMMIT, which had in fact been applied: the retry finds
    ``bad`` dead already and buries nothing, and the burial is still said."""
    from queuectl.storage.postgres.driver import PostgresDriver

    storage = pg_storage[0]
    _unreadable_first(storage, NewJob("next", "true", 0))
    driver = getattr(storage, "db", None)
    assert isinstance(driver, PostgresDriver)
    run = driver.connector.run

    def committed_then_in_doubt(operation: Callable[[Any, bool], Any], **options: Any) -> Any:
        run(operation, **options)  # it committed, but we never heard back: run it again
        return run(lambda conn, _: operation(conn, True), **options)

    with monkeypatch.context() as patched, caplog.at_level("WARNING", logger="queuectl.storage"):
        patched.setattr(driver.connector, "run", committed_then_in_doubt)
        claimed, _ = storage.record_and_claim("w", [], 1, T0, T0 + 30)
    assert [job.id for job in claimed] == ["next"]
    assert _burials(caplog) == [BURIED]


def _wait_for(probe: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while (found := probe()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return found
